import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../config.ts';
import { kafkaConnection } from './kafka-connection.ts';

const brokers = { KAFKA_BROKERS: 'kafka-0.kafka:9093' };

test('a plain cluster gets neither TLS nor SASL', () => {
  assert.deepEqual(kafkaConnection(loadConfig(brokers).kafka), { ssl: false });
});

test('KAFKA_SASL_* and KAFKA_SSL reach the Kafka client, mechanism in any case', () => {
  const config = loadConfig({
    ...brokers,
    KAFKA_SSL: 'true',
    KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
    KAFKA_SASL_USERNAME: 'mediagate',
    KAFKA_SASL_PASSWORD: 'secret-pw',
  });
  assert.deepEqual(kafkaConnection(config.kafka), {
    ssl: true,
    sasl: { mechanism: 'scram-sha-512', username: 'mediagate', password: 'secret-pw' },
  });
});

test('KAFKA_SSL_CA_FILE turns TLS on and trusts that CA', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kafka-ca-'));
  try {
    const ca = join(dir, 'ca.crt');
    await writeFile(ca, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    const connection = kafkaConnection(loadConfig({ ...brokers, KAFKA_SSL_CA_FILE: ca }).kafka);
    assert.deepEqual(connection.ssl, {
      ca: ['-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'],
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a secured cluster misconfigured stops the role at start, naming the setting', () => {
  assert.throws(
    () =>
      loadConfig({
        ...brokers,
        KAFKA_SASL_MECHANISM: 'gssapi',
        KAFKA_SASL_USERNAME: 'u',
        KAFKA_SASL_PASSWORD: 'p',
      }),
    /kafka\/sasl\/mechanism/,
  );
  assert.throws(() => loadConfig({ ...brokers, KAFKA_SASL_MECHANISM: 'plain' }), /kafka\/sasl\/username/);
  const config = loadConfig({ ...brokers, KAFKA_SSL_CA_FILE: '/nonexistent/ca.crt' });
  assert.throws(() => kafkaConnection(config.kafka), /KAFKA_SSL_CA_FILE \/nonexistent\/ca.crt/);
});
