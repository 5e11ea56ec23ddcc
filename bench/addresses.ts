/**
 * `npm run bench:addresses [-- --rounds N]`: deposit-address derivation speed next to the raw
 * secp256k1 public-key multiplication it is built on, measured in the same run, each warmed alike
 * and the best of interleaved rounds kept. Pure computation on one core: no Postgres and no
 * Temporal, so there is no --temporal flag. Target: ≥ 0.8× the raw rate.
 */
import { secp256k1 } from '@noble/curves/secp256k1';
import { HDNodeWallet } from 'ethers';
import { AddressDeriver, generateMnemonic, xpubsFromMnemonic } from '../src/chains/derivation';
import { bestOfRounds, formatBest, printHeader, ResultTable, roundsFlag, verdict, type Measured, type Subject } from './measure';

const COUNT = Number(process.env.BENCH_COUNT ?? 20_000);
/** The JIT and noble's precomputed base-point tables are warm after this many. */
const WARM_UP = 2_000;
const TARGET = 0.8;

/** `count` synchronous calls of `run` as one round: calls per second. */
function subject(count: number, run: (i: number) => unknown): Subject {
  const loop = async (n: number): Promise<Measured> => {
    const started = performance.now();
    for (let i = 0; i < n; i++) run(i);
    return { rate: n / ((performance.now() - started) / 1000), latencies: [] };
  };
  return { warmUp: () => loop(Math.min(count, WARM_UP)), round: () => loop(count) };
}

async function main(): Promise<void> {
  const rounds = roundsFlag();
  const mnemonic = generateMnemonic();
  const deriver = new AddressDeriver(xpubsFromMnemonic(mnemonic));
  const privateKeys = Array.from({ length: COUNT }, () => secp256k1.utils.randomPrivateKey());
  const ethersReceiveNode = HDNodeWallet.fromPhrase(mnemonic, '', "m/44'/60'/0'/0").neuter();

  printHeader(`best of ${rounds} rounds of ${COUNT} after ${WARM_UP} to warm up, one core; no Postgres, no Temporal`);
  const best = await bestOfRounds(rounds, {
    raw: subject(COUNT, (i) => secp256k1.getPublicKey(privateKeys[i]!, false)),
    evm: subject(COUNT, (i) => deriver.derive('evm', i)),
    tron: subject(COUNT, (i) => deriver.derive('tron', i)),
    ethers: subject(Math.min(COUNT, 5_000), (i) => ethersReceiveNode.deriveChild(i).address),
  });
  const column = 'per second';
  const table = new ResultTable([column]);
  table.set('raw public-key multiplications (@noble/curves), best (other rounds)', column, formatBest(best.raw));
  table.set('EVM addresses derived from the xpub', column, formatBest(best.evm));
  table.set('Tron addresses derived from the xpub', column, formatBest(best.tron));
  table.set('for comparison: ethers HDNodeVoidWallet.deriveChild', column, formatBest(best.ethers));
  const ratio = Math.min(best.evm.rate, best.tron.rate) / best.raw.rate;
  table.set(`slower family ÷ raw (target ≥ ${TARGET.toFixed(2)}×)`, column, `${ratio.toFixed(2)}× ${verdict(ratio >= TARGET)}`);
  table.print();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
