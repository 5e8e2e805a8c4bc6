import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { Problem } from '../../contracts/problem.ts';
import {
  CreateEndpointBody,
  DeliveryList,
  DeliveryParams,
  DeliveryQuery,
  DeliveryView,
  EndpointList,
  EndpointParams,
  EndpointView,
  EndpointWithSecret,
  NoBody,
  Queued,
  UpdateEndpointBody,
} from '../../contracts/webhook-endpoints.ts';
import { listDeliveries, queueTestEvent, redeliver } from '../webhooks/deliveries.ts';
import {
  createEndpoint,
  deleteEndpoint,
  getEndpoint,
  listEndpoints,
  rotateSecret,
  updateEndpoint,
} from '../webhooks/endpoints.ts';
import { adminOnly } from './require-admin.ts';
import type { RouteDeps } from './route-deps.ts';

const errors = { 400: Problem, 401: Problem, 403: Problem, 404: Problem, 422: Problem };
const tags = ['webhook endpoints'];

/**
 * Outgoing webhooks (Standard Webhooks), for operators: the endpoints apps registered for lifecycle events
 * and their delivery log. Not the incoming vendor callbacks under `/v1/webhooks`.
 */
export async function webhookEndpointRoutes(app: FastifyInstance, { ctx, caller }: RouteDeps): Promise<void> {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  adminOnly(app, caller);
  const deps = { db: ctx.db, allowPrivateNetworks: ctx.config.webhooks.allowPrivateNetworks };

  typed.post(
    '/v1/webhook-endpoints',
    {
      schema: {
        tags,
        summary: 'Register an endpoint; the answer carries its signing secret, shown this once',
        body: CreateEndpointBody,
        response: { 201: EndpointWithSecret, ...errors },
      },
    },
    async (request, reply) => {
      return reply.status(201).send(await createEndpoint(deps, request.body));
    },
  );

  typed.get(
    '/v1/webhook-endpoints',
    { schema: { tags, summary: 'Every endpoint', response: { 200: EndpointList, ...errors } } },
    async () => listEndpoints(ctx.db),
  );

  typed.get(
    '/v1/webhook-endpoints/:endpointId',
    {
      schema: {
        tags,
        summary: 'One endpoint',
        params: EndpointParams,
        response: { 200: EndpointView, ...errors },
      },
    },
    async (request) => {
      return getEndpoint(ctx.db, request.params.endpointId);
    },
  );

  typed.patch(
    '/v1/webhook-endpoints/:endpointId',
    {
      schema: {
        tags,
        summary:
          'Change the URL, description or filter; disable, or re-enable (pending deliveries go at once)',
        params: EndpointParams,
        body: UpdateEndpointBody,
        response: { 200: EndpointView, ...errors },
      },
    },
    async (request) => {
      return updateEndpoint(deps, request.params.endpointId, request.body);
    },
  );

  typed.delete(
    '/v1/webhook-endpoints/:endpointId',
    {
      schema: {
        tags,
        summary: 'Remove an endpoint with its deliveries and log',
        params: EndpointParams,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      await deleteEndpoint(ctx.db, request.params.endpointId);
      return reply.status(204).send(null);
    },
  );

  typed.post(
    '/v1/webhook-endpoints/:endpointId/rotate-secret',
    {
      schema: {
        tags,
        summary: 'A new secret, shown once; the old one also signs for 24 hours',
        params: EndpointParams,
        body: NoBody,
        response: { 200: EndpointWithSecret, ...errors },
      },
    },
    async (request) => {
      return rotateSecret(ctx.db, request.params.endpointId);
    },
  );

  typed.get(
    '/v1/webhook-endpoints/:endpointId/deliveries',
    {
      schema: {
        tags,
        summary: 'The delivery log: deliveries newest first, each with its attempts',
        params: EndpointParams,
        querystring: DeliveryQuery,
        response: { 200: DeliveryList, ...errors },
      },
    },
    async (request) => {
      return listDeliveries(ctx.db, request.params.endpointId, request.query);
    },
  );

  typed.post(
    '/v1/webhook-endpoints/:endpointId/deliveries/:deliveryId/redeliver',
    {
      schema: {
        tags,
        summary: 'Send one delivery again now, with the same webhook-id; answers with the outcome',
        params: DeliveryParams,
        body: NoBody,
        response: { 200: DeliveryView, ...errors },
      },
    },
    async (request) => {
      const { endpointId, deliveryId } = request.params;
      return redeliver(ctx.db, ctx.config.webhooks, endpointId, deliveryId);
    },
  );

  typed.post(
    '/v1/webhook-endpoints/:endpointId/test',
    {
      schema: {
        tags,
        summary: 'Queue a `webhook.test` event for this endpoint (past its filter)',
        params: EndpointParams,
        body: NoBody,
        response: { 202: Queued, ...errors },
      },
    },
    async (request, reply) => {
      return reply.status(202).send(await queueTestEvent(ctx.db, request.params.endpointId));
    },
  );
}
