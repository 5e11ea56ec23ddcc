/**
 * `npm run bench:addresses`: deposit-address derivation speed next to the raw secp256k1 public-key
 * multiplication it is built on, measured in the same run. Target: ≥ 0.8× the raw rate.
 */
import { secp256k1 } from '@noble/curves/secp256k1';
import { HDNodeWallet } from 'ethers';
import { AddressDeriver, generateMnemonic, xpubsFromMnemonic } from '../src/chains/derivation';

const COUNT = Number(process.env.BENCH_COUNT ?? 20_000);
const ROUNDS = 3;

function rate(label: string, count: number, run: (i: number) => unknown): number {
  let best = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const started = performance.now();
    for (let i = 0; i < count; i++) run(i);
    best = Math.max(best, count / ((performance.now() - started) / 1000));
  }
  console.log(`${label.padEnd(48)} ${best.toFixed(0).padStart(8)} /s`);
  return best;
}

const mnemonic = generateMnemonic();
const deriver = new AddressDeriver(xpubsFromMnemonic(mnemonic));
const privateKeys = Array.from({ length: COUNT }, () => secp256k1.utils.randomPrivateKey());
const ethersReceiveNode = HDNodeWallet.fromPhrase(mnemonic, '', "m/44'/60'/0'/0").neuter();

// Warm up the JIT and noble's precomputed base-point tables before measuring anything.
for (let i = 0; i < 2_000; i++) {
  deriver.derive('evm', i);
  secp256k1.getPublicKey(privateKeys[i]!, false);
}

console.log(`best of ${ROUNDS} rounds of ${COUNT}, one core, node ${process.version}`);
const raw = rate('raw public-key multiplications (@noble/curves)', COUNT, (i) => secp256k1.getPublicKey(privateKeys[i]!, false));
const evm = rate('EVM addresses derived from the xpub', COUNT, (i) => deriver.derive('evm', i));
const tron = rate('Tron addresses derived from the xpub', COUNT, (i) => deriver.derive('tron', i));
rate('for comparison: ethers HDNodeVoidWallet.deriveChild', Math.min(COUNT, 5_000), (i) => ethersReceiveNode.deriveChild(i).address);

const ratio = Math.min(evm, tron) / raw;
console.log(`ratio (slower family / raw): ${ratio.toFixed(2)}× — target ≥ 0.80×: ${ratio >= 0.8 ? 'met' : 'NOT met'}`);
