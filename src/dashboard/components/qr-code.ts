/** QR codes of deposit addresses, drawn on the server as inline SVG. */
import QRCode from 'qrcode';
import { html, trustedMarkup, type SafeHtml } from '../html';

export async function qrCode(text: string, label: string): Promise<SafeHtml> {
  // The package draws paths from the address's bits: the address itself never appears in the markup.
  const svg = await QRCode.toString(text, { type: 'svg', margin: 1, errorCorrectionLevel: 'M' });
  return trustedMarkup(svg.replace('<svg ', `<svg data-qr role="img" aria-label="${html`${label}`.value}" `));
}
