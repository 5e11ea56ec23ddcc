/** A transfer of money to a customer on a final chain, as the oracle reads it (EVM or Tron). */
export interface ChainTransfer {
  network: 'ethereum' | 'tron';
  txHash: string;
  /** USDT or ETH on ethereum, USDT or TRX on tron. */
  currency: string;
  /** As the chain writes it (EVM: lowercase; Tron: base58check). */
  to: string;
  amount: bigint;
  blockNumber: number;
  /** How inflow would see it: a token log, a native transaction, or an internal transfer by a contract. */
  via: 'log' | 'native' | 'internal';
}
