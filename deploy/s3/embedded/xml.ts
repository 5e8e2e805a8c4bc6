import { malformedXml, type S3Error } from './errors.ts';

/**
 * S3's XML dialect: building response documents, and a small parser for the few request bodies S3
 * takes as XML. The parser handles elements, text, CDATA, comments and the predefined and numeric
 * entities; it refuses DOCTYPE outright, so no entity expansion can be smuggled in.
 */

const S3_NAMESPACE = 'http://s3.amazonaws.com/doc/2006-03-01/';
const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};
const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

const escapeXml = (value: string): string => value.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);

/** A leaf element with escaped text; nothing at all when the value is absent. */
export const text = (name: string, value: string | number | boolean | undefined): string =>
  value === undefined ? '' : `<${name}>${escapeXml(String(value))}</${name}>`;

/** An element around already-built children. */
export const el = (name: string, ...children: string[]): string => `<${name}>${children.join('')}</${name}>`;

export const xmlDocument = (root: string, ...children: string[]): string =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="${S3_NAMESPACE}">${children.join('')}</${root}>`;

export function errorDocument(error: S3Error, resource: string, requestId: string): string {
  const detail = Object.entries(error.detail).map(([name, value]) => text(name, value));
  return `<?xml version="1.0" encoding="UTF-8"?>\n${el(
    'Error',
    text('Code', error.code),
    text('Message', error.message),
    ...detail,
    text('Resource', resource),
    text('RequestId', requestId),
  )}`;
}

export interface XmlElement {
  name: string;
  children: XmlElement[];
  text: string;
}

function decodeEntities(raw: string): string {
  return raw.replace(/&(#x[0-9a-fA-F]+|#\d+|[a-z]+);|&/g, (_match, entity: string | undefined) => {
    if (entity === undefined) throw malformedXml();
    if (entity.startsWith('#x')) return String.fromCodePoint(Number.parseInt(entity.slice(2), 16));
    if (entity.startsWith('#')) return String.fromCodePoint(Number.parseInt(entity.slice(1), 10));
    const decoded = ENTITIES[entity];
    if (decoded === undefined) throw malformedXml();
    return decoded;
  });
}

const localName = (qualified: string): string => qualified.slice(qualified.indexOf(':') + 1);

function skipPast(input: string, from: number, terminator: string): number {
  const end = input.indexOf(terminator, from);
  if (end < 0) throw malformedXml();
  return end + terminator.length;
}

export function parseXml(input: string): XmlElement {
  const documentNode: XmlElement = { name: '', children: [], text: '' };
  const stack: XmlElement[] = [documentNode];
  const top = (): XmlElement => stack[stack.length - 1] ?? documentNode;
  let i = input.charCodeAt(0) === 0xfeff ? 1 : 0;
  while (i < input.length) {
    const lt = input.indexOf('<', i);
    const textEnd = lt < 0 ? input.length : lt;
    if (textEnd > i) top().text += decodeEntities(input.slice(i, textEnd));
    if (lt < 0) break;
    if (input.startsWith('<?', lt)) {
      i = skipPast(input, lt, '?>');
    } else if (input.startsWith('<!--', lt)) {
      i = skipPast(input, lt, '-->');
    } else if (input.startsWith('<![CDATA[', lt)) {
      i = skipPast(input, lt, ']]>');
      top().text += input.slice(lt + 9, i - 3);
    } else if (input.startsWith('<!', lt)) {
      throw malformedXml();
    } else {
      i = skipPast(input, lt, '>');
      const tag = input.slice(lt + 1, i - 1);
      if (tag.startsWith('/')) {
        const closed = stack.pop();
        if (stack.length === 0 || closed?.name !== localName(tag.slice(1).trim())) throw malformedXml();
      } else {
        const name = /^[^\s/>]+/.exec(tag)?.[0];
        if (!name) throw malformedXml();
        const element: XmlElement = { name: localName(name), children: [], text: '' };
        top().children.push(element);
        if (!tag.endsWith('/')) stack.push(element);
      }
    }
  }
  const root = documentNode.children[0];
  if (stack.length !== 1 || !root || documentNode.children.length !== 1 || documentNode.text.trim() !== '') {
    throw malformedXml();
  }
  return root;
}

export const childrenNamed = (parent: XmlElement, name: string): XmlElement[] =>
  parent.children.filter((child) => child.name === name);

export const childText = (parent: XmlElement | undefined, name: string): string | undefined =>
  parent?.children.find((child) => child.name === name)?.text;

/** ETags arrive quoted or bare depending on the client; S3 compares them either way. */
export const bareEtag = (etag: string): string => etag.trim().replace(/^"(.*)"$/, '$1');

export interface CompletedPart {
  partNumber: number;
  etag: string;
}

export function parseCompleteMultipartUpload(body: string): CompletedPart[] {
  const root = parseXml(body);
  if (root.name !== 'CompleteMultipartUpload') throw malformedXml();
  const parts = childrenNamed(root, 'Part').map((part) => {
    const partNumber = childText(part, 'PartNumber')?.trim() ?? '';
    const etag = childText(part, 'ETag');
    if (!/^\d{1,5}$/.test(partNumber) || etag === undefined) throw malformedXml();
    return { partNumber: Number(partNumber), etag: bareEtag(etag) };
  });
  if (parts.length === 0) throw malformedXml();
  return parts;
}

export interface DeleteRequest {
  quiet: boolean;
  keys: string[];
}

export function parseDeleteObjects(body: string): DeleteRequest {
  const root = parseXml(body);
  if (root.name !== 'Delete') throw malformedXml();
  const keys = childrenNamed(root, 'Object').map((object) => {
    const key = childText(object, 'Key');
    if (key === undefined) throw malformedXml();
    return key;
  });
  if (keys.length === 0 || keys.length > 1000) throw malformedXml();
  return { quiet: childText(root, 'Quiet')?.trim() === 'true', keys };
}
