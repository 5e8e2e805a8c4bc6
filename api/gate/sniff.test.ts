import assert from 'node:assert/strict';
import { test } from 'node:test';
import { declaredMatches, sniffFamily } from './sniff.ts';

const ftyp = (major: string, ...compatible: string[]) => {
  const brands = [major, '\0\0\0\0', ...compatible].join('');
  const box = Buffer.alloc(8 + brands.length);
  box.writeUInt32BE(box.length, 0);
  box.write('ftyp', 4, 'latin1');
  box.write(brands, 8, 'latin1');
  return box;
};

test('recognises image and audio-visual signatures', () => {
  assert.equal(sniffFamily(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0])), 'jpeg');
  assert.equal(sniffFamily(Buffer.from('\x89PNG\r\n\x1a\n\0\0', 'latin1')), 'png');
  assert.equal(sniffFamily(Buffer.from('RIFF\0\0\0\0WEBPVP8 ', 'latin1')), 'webp');
  assert.equal(sniffFamily(ftyp('heic', 'mif1', 'heic')), 'heif');
  assert.equal(sniffFamily(ftyp('avif', 'mif1', 'avif')), 'avif');
  assert.equal(sniffFamily(ftyp('isom', 'isom', 'avc1')), 'isobmff');
  assert.equal(sniffFamily(ftyp('qt  ', 'qt  ')), 'isobmff');
  assert.equal(sniffFamily(Buffer.from([0x1a, 0x45, 0xdf, 0xa3, 1, 0])), 'matroska');
  assert.equal(sniffFamily(Buffer.from('ID3\x04\0', 'latin1')), 'mpeg-audio');
  assert.equal(sniffFamily(Buffer.from('fLaC\0', 'latin1')), 'flac');
});

test('an executable, HTML or SVG is nothing we accept', () => {
  assert.equal(sniffFamily(Buffer.from('MZ\x90\0\x03', 'latin1')), undefined);
  assert.equal(sniffFamily(Buffer.from('<!DOCTYPE html><html>')), undefined);
  assert.equal(sniffFamily(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg">')), undefined);
});

test('a PNG declared as JPEG does not match; MOV declared as MP4 does', () => {
  assert.equal(declaredMatches('image/jpeg', 'png'), false);
  assert.equal(declaredMatches('video/mp4', 'isobmff'), true);
  assert.equal(declaredMatches('image/jpeg', undefined), false);
});
