/**
 * A merchant's logo for payment pages: sent as a data: URL, checked to be the image it says it is,
 * kept as bytes. Not fetched from a URL: inflow would then request an address a tenant chose (the
 * host's own network included), and the payer's browser would have to ask a third party for it.
 */
import { InvalidRequestError } from '../domain/errors';

export const LOGO_MAX_BYTES = 32 * 1024;
export const logoTypes = ['image/png', 'image/jpeg', 'image/gif', 'image/webp'] as const;
export type LogoType = (typeof logoTypes)[number];

/** Each type's first bytes: a file that does not start so is not that image. */
const signatures: Record<LogoType, (bytes: Buffer) => boolean> = {
  'image/png': (bytes) => bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
  'image/jpeg': (bytes) => bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff,
  'image/gif': (bytes) => ['GIF87a', 'GIF89a'].includes(bytes.subarray(0, 6).toString('latin1')),
  'image/webp': (bytes) => bytes.subarray(0, 4).toString('latin1') === 'RIFF' && bytes.subarray(8, 12).toString('latin1') === 'WEBP',
};

/** The image a `data:image/…;base64,…` URL holds, or a 400 `logo_invalid` saying what is wrong. */
export function decodeLogo(dataUrl: string): { type: LogoType; bytes: Buffer } {
  const match = /^data:(image\/(?:png|jpeg|gif|webp));base64,([A-Za-z0-9+/]+={0,2})$/.exec(dataUrl);
  const invalid = (message: string) => new InvalidRequestError(message, 'logo', 'logo_invalid');
  if (!match) throw invalid('logo must be a data: URL of a PNG, JPEG, GIF or WebP image, base64-encoded.');
  const type = match[1] as LogoType;
  const bytes = Buffer.from(match[2]!, 'base64');
  if (bytes.length > LOGO_MAX_BYTES) throw invalid(`logo is ${bytes.length} bytes: at most ${LOGO_MAX_BYTES} are kept.`);
  if (!signatures[type](bytes)) throw invalid(`logo says it is ${type}, but its bytes are not a ${type.slice(6).toUpperCase()} image.`);
  return { type, bytes };
}
