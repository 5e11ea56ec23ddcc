/**
 * The payments the run makes, as real transactions on the devnet to customers' deposit addresses.
 *
 * Every payment comes from its own one-shot payer wallet (its key derived from the seed), funded and
 * approved in the set-up, buried deeper than any reorg: the payment is the payer's next
 * transaction and nothing else ever uses that nonce, so its signed bytes, kept from the start, can
 * be sent again after a reorg and are mined with the same hash. The payer approves the operator
 * (anvil's funded account), so the runner can drain it before a re-mine (the payment then
 * reverts, or through the ConditionalPayer pays less or nothing).
 *
 * Kinds: `usdt` (transfer), `eth` (native), `batch` (several USDT transfers in one transaction,
 * batchTransfer, now and then two identical ones), `conditional` (USDT through the
 * ConditionalPayer), `dust` (USDT amounts of a few base units: recorded as dust, never credited)
 * and `contract-eth` (native coin sent by a contract, an internal transfer through
 * ConditionalPayer.forwardEth, found in call traces).
 */
import { Interface, MaxUint256, Wallet, id, keccak256 } from 'ethers';
import testUsdt from '../../dev/devnet/test-usdt.json';
import { FUNDED_PRIVATE_KEY } from '../../dev/devnet/anvil';
import type { Prng } from '../chaos/prng';
import conditionalPayer from './contracts/conditional-payer.json';
import { GAS_COST_PER_TX, type Devnet } from './devnet';

export const paymentKinds = ['usdt', 'eth', 'batch', 'conditional', 'dust', 'contract-eth'] as const;
export type PaymentKind = (typeof paymentKinds)[number];
export const defaultPaymentKinds: readonly PaymentKind[] = paymentKinds;

export const usdtInterface = new Interface(testUsdt.abi);
export const payerInterface = new Interface(conditionalPayer.abi);
const GAS_LIMIT = 300_000n;
/** How many set-up transactions go into the pool before a block is mined. */
const SETUP_BATCH = 200;
/** Where drained tokens go: no customer's address. */
export const DRAIN_SINK = '0x000000000000000000000000000000000000dEaD';

export interface Customer {
  id: string;
  /** The EIP-55 EVM deposit address. */
  address: string;
}

/** One transfer a payment makes to a customer (a batch makes several). */
export interface Leg {
  to: string;
  amount: bigint;
}

export interface Payment {
  /** p1, p2, … in plan order. */
  id: string;
  kind: PaymentKind;
  currency: 'USDT' | 'ETH';
  legs: Leg[];
  payer: Wallet;
  /** The payment's signed bytes (set once funded): sent again as they are after a reorg. */
  raw: string;
  hash: string;
}

export interface Contracts {
  usdt: string;
  conditionalPayer: string;
}

export const operator = new Wallet(FUNDED_PRIVATE_KEY);

/** Deploys the test USDT and the ConditionalPayer from the operator, one block. */
export async function deployContracts(devnet: Devnet): Promise<Contracts> {
  const nonce = await devnet.nonce(operator.address);
  const usdtData = `${testUsdt.bytecode}${usdtInterface.encodeDeploy([1_000_000_000n * 10n ** 6n]).slice(2)}`;
  const usdtRaw = await operator.signTransaction({ data: usdtData, nonce, gasLimit: 3_000_000n, gasPrice: 10_000_000_000n, chainId: 31337n });
  const payerRaw = await operator.signTransaction({
    data: conditionalPayer.bytecode,
    nonce: nonce + 1,
    gasLimit: 3_000_000n,
    gasPrice: 10_000_000_000n,
    chainId: 31337n,
  });
  const hashes = [await devnet.sendRaw(usdtRaw), await devnet.sendRaw(payerRaw)];
  await devnet.mine();
  const [usdt, payer] = await Promise.all(hashes.map((hash) => devnet.receipt(hash)));
  for (const receipt of [usdt, payer]) if (receipt?.status !== '0x1') throw new Error('deploying the suite contracts failed');
  const address = (receipt: unknown) => (receipt as { contractAddress: string }).contractAddress;
  return { usdt: address(usdt), conditionalPayer: address(payer) };
}

/** A payment of `kind` to customers picked by `prng`, from a payer whose key derives from the seed and the payment's number. */
export function planPayment(prng: Prng, seed: number, number: number, kind: PaymentKind, customers: Customer[]): Omit<Payment, 'raw' | 'hash'> {
  const usdtAmount = () => BigInt(prng.int(5, 500)) * 1_000_000n + BigInt(prng.int(0, 999_999));
  const ethAmount = () => BigInt(prng.int(10, 500)) * 10n ** 15n + BigInt(prng.int(0, 999_999));
  const payer = new Wallet(id(`inflow chain-chaos seed ${seed} payer ${number}`));
  let legs: Leg[];
  switch (kind) {
    case 'usdt':
    case 'conditional':
      legs = [{ to: prng.pick(customers).address, amount: usdtAmount() }];
      break;
    case 'dust':
      legs = [{ to: prng.pick(customers).address, amount: BigInt(prng.int(1, 99)) }];
      break;
    case 'eth':
    case 'contract-eth':
      legs = [{ to: prng.pick(customers).address, amount: ethAmount() }];
      break;
    case 'batch': {
      legs = prng
        .shuffle(customers)
        .slice(0, prng.int(2, Math.min(4, customers.length)))
        .map((customer) => ({ to: customer.address, amount: usdtAmount() }));
      // Now and then the same transfer twice in one transaction: two deposits, told apart only by position.
      if (prng.chance(0.3)) legs.push({ ...legs[0]! });
      break;
    }
  }
  return { id: `p${number}`, kind, currency: kind === 'eth' || kind === 'contract-eth' ? 'ETH' : 'USDT', legs, payer };
}

/**
 * Funds every payer (gas, and the ETH or USDT it pays), has the token payers approve the operator
 * (and the ConditionalPayer), then signs every payment; returns the payments with their bytes.
 */
export async function fundAndSign(devnet: Devnet, contracts: Contracts, planned: Array<Omit<Payment, 'raw' | 'hash'>>): Promise<Payment[]> {
  const total = (payment: Omit<Payment, 'raw' | 'hash'>) => payment.legs.reduce((sum, leg) => sum + leg.amount, 0n);
  let nonce = await devnet.nonce(operator.address);
  const funding: string[] = [];
  for (const payment of planned) {
    const eth = GAS_COST_PER_TX * 4n + (payment.currency === 'ETH' ? total(payment) : 0n);
    funding.push(await devnet.sign(operator, { to: payment.payer.address, value: eth, nonce: nonce++, gasLimit: 21_000n }));
    if (payment.currency === 'USDT') {
      const data = usdtInterface.encodeFunctionData('mint', [payment.payer.address, total(payment)]);
      funding.push(await devnet.sign(operator, { to: contracts.usdt, data, nonce: nonce++, gasLimit: GAS_LIMIT }));
    }
  }
  await sendAllAndMine(devnet, funding, 'funding the payers');

  const approvals: string[] = [];
  const nextNonce = new Map<string, number>();
  for (const payment of planned) {
    let payerNonce = 0;
    if (payment.currency === 'USDT') {
      const approve = (spender: string) => usdtInterface.encodeFunctionData('approve', [spender, MaxUint256]);
      approvals.push(await devnet.sign(payment.payer, { to: contracts.usdt, data: approve(operator.address), nonce: payerNonce++, gasLimit: GAS_LIMIT }));
      if (payment.kind === 'conditional') {
        approvals.push(
          await devnet.sign(payment.payer, { to: contracts.usdt, data: approve(contracts.conditionalPayer), nonce: payerNonce++, gasLimit: GAS_LIMIT }),
        );
      }
    }
    nextNonce.set(payment.id, payerNonce);
  }
  await sendAllAndMine(devnet, approvals, 'the payers’ approvals');

  return Promise.all(
    planned.map(async (payment) => {
      const raw = await devnet.sign(payment.payer, { ...paymentCall(payment, contracts), nonce: nextNonce.get(payment.id)!, gasLimit: GAS_LIMIT });
      // A signed transaction's hash is the hash of its bytes: the same bytes, the same hash, on any fork.
      return { ...payment, raw, hash: keccak256(raw) };
    }),
  );
}

/** The call a payment makes. */
function paymentCall(payment: Omit<Payment, 'raw' | 'hash'>, contracts: Contracts): { to: string; data?: string; value?: bigint } {
  const leg = payment.legs[0]!;
  switch (payment.kind) {
    case 'usdt':
    case 'dust':
      return { to: contracts.usdt, data: usdtInterface.encodeFunctionData('transfer', [leg.to, leg.amount]) };
    case 'batch':
      return {
        to: contracts.usdt,
        data: usdtInterface.encodeFunctionData('batchTransfer', [payment.legs.map((each) => each.to), payment.legs.map((each) => each.amount)]),
      };
    case 'conditional':
      return { to: contracts.conditionalPayer, data: payerInterface.encodeFunctionData('pay', [contracts.usdt, leg.to, leg.amount]) };
    case 'eth':
      return { to: leg.to, value: leg.amount };
    case 'contract-eth':
      return { to: contracts.conditionalPayer, data: payerInterface.encodeFunctionData('forwardEth', [leg.to]), value: leg.amount };
  }
}

/**
 * The operator's transferFrom of `amount` of the payer's USDT to the sink: before a payment is
 * mined again, it makes the payment revert (all drained) or, through the ConditionalPayer, pay less.
 */
export async function signDrain(devnet: Devnet, contracts: Contracts, payer: string, amount: bigint): Promise<string> {
  const data = usdtInterface.encodeFunctionData('transferFrom', [payer, DRAIN_SINK, amount]);
  return devnet.sign(operator, { to: contracts.usdt, data, nonce: await devnet.nonce(operator.address), gasLimit: GAS_LIMIT });
}

export async function usdtBalance(devnet: Devnet, contracts: Contracts, owner: string): Promise<bigint> {
  return BigInt(await devnet.call(contracts.usdt, usdtInterface.encodeFunctionData('balanceOf', [owner])));
}

async function sendAllAndMine(devnet: Devnet, raws: string[], what: string): Promise<void> {
  // A long run's set-up holds far more than one block's gas, and anvil mines a block of thousands
  // slowly: a couple of hundred at a time, each batch mined until the pool holds none of it.
  let failed = 0;
  for (let start = 0; start < raws.length; start += SETUP_BATCH) {
    const hashes: string[] = [];
    for (const raw of raws.slice(start, start + SETUP_BATCH)) hashes.push(await devnet.sendRaw(raw));
    let receipts: Array<Awaited<ReturnType<Devnet['receipt']>>> = hashes.map(() => null);
    for (let block = 0; block < 20 && receipts.some((receipt) => receipt === null); block++) {
      await devnet.mine();
      receipts = await Promise.all(hashes.map((hash) => devnet.receipt(hash)));
    }
    failed += receipts.filter((receipt) => receipt?.status !== '0x1').length;
  }
  if (failed > 0) throw new Error(`${what}: ${failed} of ${raws.length} transactions not mined or reverted`);
}
