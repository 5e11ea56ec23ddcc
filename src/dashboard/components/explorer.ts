/** A transaction hash as the dashboard shows it, with a link to the network's public explorer for a live one. */
import { html, type SafeHtml } from '../html';

const EXPLORERS: Record<string, string> = {
  ethereum: 'https://etherscan.io/tx/',
  polygon: 'https://polygonscan.com/tx/',
  bsc: 'https://bscscan.com/tx/',
  arbitrum: 'https://arbiscan.io/tx/',
  base: 'https://basescan.org/tx/',
  tron: 'https://tronscan.org/#/transaction/',
};

/** The hash in <code>, then the explorer's link when `linked` (a live transaction on a public chain) and the network has one. */
export function transactionHash(network: string, hash: string, linked: boolean): SafeHtml {
  const explorer = EXPLORERS[network];
  return html`<code>${hash}</code>${explorer && linked ? html` <a href="${explorer}${hash}" rel="noopener noreferrer">View on explorer</a>` : ''}`;
}
