/**
 * A Chainlink-compatible price feed for tests and the local devnet: dev/devnet/TestAggregator.sol,
 * shipped compiled (see test-aggregator.json for the compiler and flags). Its owner sets each round
 * with `updateAnswer(answer)`, or `setRoundData(answer, updatedAt)` to backdate one (a stale feed).
 */
import { Contract, ContractFactory, type Signer } from 'ethers';
import testAggregator from './test-aggregator.json';

export const testAggregatorAbi = testAggregator.abi;

/** Deploys a feed answering `answer` (in units of 10^-decimals USD) from now; returns the contract. */
export async function deployTestAggregator(signer: Signer, feed: { decimals: number; description: string; answer: bigint }): Promise<Contract> {
  const factory = new ContractFactory(testAggregator.abi, testAggregator.bytecode, signer);
  const contract = await factory.deploy(feed.decimals, feed.description, feed.answer);
  await contract.waitForDeployment();
  return contract as unknown as Contract;
}
