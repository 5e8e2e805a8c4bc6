import assert from 'node:assert/strict';
import { test } from 'node:test';
import { errorCatalogue, processingFailureCodes } from '../contracts/errors.ts';
import { FfmpegError } from '../platform/media/run-ffmpeg.ts';
import { mediaInputErrorFrom } from './ffmpeg/media-input-error.ts';
import { rejectionFromDecodeError, rejectionFromEncodeError } from './image/errors.ts';
import { MediaRejectedError } from './media-rejected-error.ts';

/** Every code a worker can put on a result is in the one catalogue, with a status: 422 theirs, 5xx ours. */
test('the failure codes the worker reports are catalogue codes, the upload’s faults 422', () => {
  const fromUploads = [
    rejectionFromDecodeError(new Error('Input buffer contains unsupported image format')),
    rejectionFromDecodeError(new Error('Input image exceeds pixel limit')),
    rejectionFromDecodeError(new Error('timeout: 48% complete')),
    rejectionFromEncodeError(new Error('timeout: 90% complete')),
    mediaInputErrorFrom(new FfmpegError('exit', 1, 'moov atom not found', 'ffmpeg'), 'the video'),
    mediaInputErrorFrom(new FfmpegError('timeout', null, '', 'ffmpeg'), 'the video'),
  ];
  for (const error of fromUploads) {
    const code = (error as { code?: string }).code;
    assert.ok(code && code in errorCatalogue, `${code} is catalogued`);
    assert.equal(errorCatalogue[code as keyof typeof errorCatalogue].status, 422, code);
  }
  for (const code of processingFailureCodes) {
    assert.ok([422, 500, 503].includes(errorCatalogue[code].status), code);
  }
  assert.equal(errorCatalogue.processing_dead_lettered.status, 500);
  assert.equal(new MediaRejectedError('media_empty', 'empty').code, 'media_empty');
});
