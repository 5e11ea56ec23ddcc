/**
 * Signing Tron transactions with a raw private key, as a wallet does: for the devnets' funded
 * accounts and for tests only. inflow itself signs only in the signer process, through its
 * KeySource (src/signer/), so this lives outside src/.
 */
import { SigningKey } from 'ethers';
import { encodeRawData, rawDataToJson, transactionId, type SignedTronTransaction, type TronRawData } from '../../src/chains/tron/transaction';

/** The 65-byte signature java-tron expects over a txID: r ‖ s ‖ recovery id (0 or 1), hex. */
export function signTransactionId(txID: string, privateKey: string): string {
  const signature = new SigningKey(privateKey.startsWith('0x') ? privateKey : `0x${privateKey}`).sign(`0x${txID}`);
  return signature.r.slice(2) + signature.s.slice(2) + (signature.yParity === 1 ? '01' : '00');
}

/** Encodes and signs: the whole transaction, ready for /wallet/broadcasttransaction. */
export function signTransaction(raw: TronRawData, privateKey: string): SignedTronTransaction {
  const bytes = encodeRawData(raw);
  const txID = transactionId(bytes);
  return { txID, raw_data: rawDataToJson(raw), raw_data_hex: Buffer.from(bytes).toString('hex'), signature: [signTransactionId(txID, privateKey)] };
}
