import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { MalformedNodeAnswerError, NATIVE_LOG_INDEX } from '../../src/chains/chain-adapter';
import { TronAdapter } from '../../src/chains/tron/tron.adapter';
import { tronAddressFromAccountId } from '../../src/chains/tron/address';

/** A recorded java-tron answer, from test/fixtures/tron/ (its README says where each came from). */
const recorded = (name: string) => JSON.parse(readFileSync(path.join(__dirname, '../fixtures/tron', name), 'utf8'));
const MAINNET_USDT = 'TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t';
const everyone = async (recipients: string[]) => new Set(recipients);

type Route = (body: Record<string, unknown>) => unknown;

/**
 * A real HTTP server answering the java-tron paths with recorded responses (mocked: no java-tron
 * can run here). `routes` picks the answer per path; the calls made are kept to assert on.
 */
async function startRecordedNode(routes: Record<string, Route | { raw: string; status: number; type: string }>) {
  const calls: Array<{ path: string; body: Record<string, unknown> }> = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
      calls.push({ path: request.url!, body });
      const route = routes[request.url!];
      if (!route) return response.writeHead(404, { 'Content-Type': 'text/html' }).end('<html>404</html>');
      if ('raw' in route) return response.writeHead(route.status, { 'Content-Type': route.type }).end(route.raw);
      response.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(route(body)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('TronAdapter against recorded java-tron responses', () => {
  const nodes: Array<{ close(): Promise<void> }> = [];
  const adapterOn = async (routes: Parameters<typeof startRecordedNode>[0], tokens = [{ currency: 'USDT', address: MAINNET_USDT }]) => {
    const node = await startRecordedNode(routes);
    nodes.push(node);
    return { node, adapter: new TronAdapter({ rpcUrl: node.url, nativeCurrency: 'TRX', tokens, headers: { 'TRON-PRO-API-KEY': 'test-key' } }) };
  };
  const blocks =
    (...list: unknown[]) =>
    () => ({ block: list });

  afterAll(async () => {
    await Promise.all(nodes.map((node) => node.close()));
  });

  it('reads the head from /wallet/getnowblock (mainnet block 47964392)', async () => {
    const { adapter, node } = await adapterOn({ '/wallet/getnowblock': () => recorded('getnowblock-mainnet.json') });
    expect(await adapter.head()).toBe(47964392);
    expect(node.calls).toEqual([{ path: '/wallet/getnowblock', body: {} }]);
  });

  it('finds a TRX payment (TransferContract, SUCCESS), in base58check, without asking for transaction infos', async () => {
    const block = recorded('getblockbynum-trx-transfer.json');
    const { adapter, node } = await adapterOn({ '/wallet/getblockbylimitnext': blocks(block) });
    expect((await adapter.transfersTo(30864544, 30864544, everyone)).transfers).toEqual([
      {
        transactionHash: '979e0823f455f3b67d65b351052f0265233f422792d31d5dbeb7c24737dd5556',
        logIndex: NATIVE_LOG_INDEX,
        blockNumber: 30864544,
        blockHash: '0000000001d6f4a09f60c27befccff6fe3cc593b2d6c46cdc79d3fd4f55db859',
        from: 'TTmaAAbFPtACn1amP3FBkmmUygFh8udAvA',
        to: 'TJ4eV1hnVAiFmeArBsuL6GkgTGVnWBe7eV',
        amount: '50000000',
        currency: 'TRX',
      },
    ]);
    expect(node.calls.map((call) => call.path)).toEqual(['/wallet/getblockbylimitnext']);
    expect(node.calls[0]!.body).toEqual({ startNum: 30864544, endNum: 30864545 });
  });

  /**
   * Block 30864600 with the two transactions of its recorded info list: COMPOSITE, as the block
   * fixture is (its README says so). The recorded block's header and two real transactions (a TRX
   * transfer and a USDT transfer() call), renumbered and given the ids of the recorded infos, so
   * the infos are the block's own, as a node answers them.
   */
  const trc20Block = () => {
    const block = recorded('getblockbynum-trc20-transfer.json');
    const infos = recorded('gettransactioninfobyblocknum-trc20.json');
    block.block_header.raw_data.number = 30864600;
    block.transactions.forEach((transaction: { txID: string }, i: number) => (transaction.txID = infos[i].id));
    return { block, infos };
  };
  const trc20Node = (infos?: unknown[]) => {
    const { block, infos: recordedInfos } = trc20Block();
    return { '/wallet/getblockbylimitnext': blocks(block), '/wallet/gettransactioninfobyblocknum': () => infos ?? recordedInfos };
  };

  it("finds a TRC-20 USDT Transfer event in the block's transaction infos (receipt SUCCESS), and no other token's", async () => {
    const { adapter } = await adapterOn(trc20Node());
    const { transfers, toBlockHash } = await adapter.transfersTo(30864600, 30864600, everyone);
    expect(toBlockHash).toBe(trc20Block().block.blockID);
    expect(transfers).toEqual([
      expect.objectContaining({ currency: 'TRX', amount: '50000000', transactionHash: '8971d5c2c3b45dee02860ce821e9c2ba601424c311a7a80545848a4c4c09b4a1' }),
      {
        transactionHash: '0af79242191c6728b79e858a36a4b5c65e4e52b9fcee4dc5af30eac57b6d0953',
        logIndex: 0,
        blockNumber: 30864600,
        blockHash: trc20Block().block.blockID,
        // Converted by an independent base58check (Python) from the recorded topics.
        from: 'TWpZXLfsvVuQuJZLkdWNY7XY2teePqPpz7',
        to: 'TBA6CypYJizwA9XdC7Ubgc5F1bxrQ7SqPt',
        amount: '532079999',
        currency: 'USDT',
      },
    ]);
    const otherTokenOnly = await adapterOn(trc20Node(), [{ currency: 'USDT', address: 'TXYZopYRdj2D9XRtbG411XZZ3kM5VkAeBf' }]);
    expect((await otherTokenOnly.adapter.transfersTo(30864600, 30864600, everyone)).transfers.map((transfer) => transfer.currency)).toEqual(['TRX']);
  });

  it('skips a TRC-20 call that failed (receipt OUT_OF_ENERGY, no logs)', async () => {
    const { infos } = trc20Block();
    const failed = { ...recorded('gettransactioninfobyid-trc20-failed.json'), id: infos[1].id, blockNumber: 30864600 };
    const { adapter } = await adapterOn(trc20Node([infos[0], failed]));
    expect((await adapter.transfersTo(30864600, 30864600, everyone)).transfers.map((transfer) => transfer.currency)).toEqual(['TRX']);
  });

  it("fails the round when the node's transaction infos are not the block's: none, another block's, or a contract call without its result", async () => {
    const { infos } = trc20Block();
    for (const answer of [
      [],
      [infos[0], { ...infos[1], blockNumber: 30864601 }],
      [infos[0], { ...infos[1], id: 'ab'.repeat(32) }],
      [infos[0], { ...infos[1], receipt: {} }],
    ]) {
      const { adapter } = await adapterOn(trc20Node(answer));
      await expect(adapter.transfersTo(30864600, 30864600, everyone)).rejects.toBeInstanceOf(MalformedNodeAnswerError);
    }
  });

  /**
   * Block 1000000 of a TRON test network and its recorded transaction infos, in three of which a
   * contract pays TRX: gettransactioninfobyblocknum-internal-trx.json is the response example of
   * tatumio/doc @ 184c548fdd02c7a098dd5ada5b530a7431871904,
   * docs/rpc/tron-rpc-documentation/api-calls-for-query-the-network-methods/gettransactioninfobyblocknum.md
   * (REAL: copied as published; its block time, 2020-01-09, is not mainnet's block 1000000, mined
   * in 2018). The block is COMPOSITE, as trc20Block's is: the recorded USDT transfer() transaction
   * once per info, given the info's id, so the infos are the block's own, as a node answers them.
   */
  const internalTrxBlock = (infos: Array<{ id: string }> = recorded('gettransactioninfobyblocknum-internal-trx.json')) => {
    const block = recorded('getblockbynum-trc20-transfer.json');
    block.block_header.raw_data.number = 1000000;
    block.transactions = infos.map((info) => ({ ...block.transactions[1], txID: info.id }));
    return { block, infos };
  };
  const internalTrxNode = (answer?: Array<{ id: string }>) => {
    const { block, infos } = internalTrxBlock(answer);
    return {
      '/wallet/getblockbylimitnext': blocks(block),
      '/wallet/gettransactioninfobyblocknum': () => infos,
      '/wallet/gettransactioninfobyid': (body: Record<string, unknown>) => infos.find((info) => info.id === body.value) ?? {},
      '/wallet/getblockbynum': (body: Record<string, unknown>) => (body.num === 1000000 ? block : {}),
    };
  };
  // Converted by an independent base58check (Python) from the recorded 41… hex.
  const payer = 'TNt1Mr2Yau3C8Z2fyX1pwxKj3KpjuRmYkF';
  const internalTrx = (transactionHash: string, logIndex: number, to: string, amount: string) => ({
    transactionHash,
    logIndex,
    blockNumber: 1000000,
    blockHash: internalTrxBlock().block.blockID,
    from: payer,
    to,
    amount,
    currency: 'TRX',
  });
  const [payout, bigPayout, secondPayout] = [
    '98d0f4149bf8023a9df4d2b754f6c728a5b6d021c4497c6cd5452b97f01b0548',
    '4ef51a5760bf98dc2dd752658f48db1445e8ca75f8a6efe14d5a462a15edd3f0',
    '80e07e3f2b92a0e9974b1398964e006288836dee82aa3a81e579a512e6581354',
  ] as const;

  it('finds TRX that contracts send (internal transactions), numbered -2, -3, … per transaction, with no token configured', async () => {
    const { adapter } = await adapterOn(internalTrxNode(), []);
    expect((await adapter.transfersTo(1000000, 1000000, everyone)).transfers).toEqual([
      // The calls that carry no TRX (`callValueInfo: [{}]`) are not transfers and take no number.
      internalTrx(payout, -2, 'TFHnPDjYj2i8bUnWozc8ZxHNMMQfSRBJZR', '700000'),
      internalTrx(bigPayout, -2, 'TXtpCUXaLmjMxCXy6krUvW5hgaocd9eezd', '2457950000'),
      internalTrx(secondPayout, -2, 'TFHnPDjYj2i8bUnWozc8ZxHNMMQfSRBJZR', '550000'),
    ]);
    expect(adapter.limitations()).toEqual([expect.stringMatching(/^TRX that contracts send .* vm\.saveInternalTx = true/)]);
  });

  it('counts only internal TRX transfers that took effect: not rejected, no TRC-10 or create, in a call whose receipt is SUCCESS (CONSTRUCTED from the recorded infos)', async () => {
    const infos = recorded('gettransactioninfobyblocknum-internal-trx.json');
    const byId = (id: string) => infos.find((info: { id: string }) => info.id === id);
    // The call that paid 700000 failed: none of its internal transactions moved anything.
    byId(payout).receipt.result = 'REVERT';
    // Before the big payout: a TRX call java-tron rejected (it, or a call above it, failed), and a TRC-10 one (TRX entry first, empty).
    const big = byId(bigPayout).internal_transactions;
    big[0] = { ...big[0], callValueInfo: [{ callValue: 5 }], rejected: true };
    big[1] = { ...big[1], callValueInfo: [{}, { callValue: 6, tokenId: '1002000' }] };
    // After the second payout: a contract creation that endows it (never a deposit address), then one more TRX call.
    const second = byId(secondPayout).internal_transactions;
    second.push({ ...second[1], note: Buffer.from('create').toString('hex'), callValueInfo: [{ callValue: 9 }] });
    second.push({ ...second[1], transferTo_address: '41f07e117a4b5f1fda66f8fcedf44065f1dafc5ad7', callValueInfo: [{ callValue: 11 }] });
    const { adapter } = await adapterOn(internalTrxNode(infos), []);
    expect((await adapter.transfersTo(1000000, 1000000, everyone)).transfers).toEqual([
      internalTrx(bigPayout, -2, 'TXtpCUXaLmjMxCXy6krUvW5hgaocd9eezd', '2457950000'),
      internalTrx(secondPayout, -2, 'TFHnPDjYj2i8bUnWozc8ZxHNMMQfSRBJZR', '550000'),
      internalTrx(secondPayout, -3, 'TXtpCUXaLmjMxCXy6krUvW5hgaocd9eezd', '11'),
    ]);
    // Read again by id: what each number pays there, and nothing where the call failed or no such transfer is.
    const recordedTransfer = (transactionHash: string, logIndex: number) => ({ transactionHash, logIndex, currency: 'TRX', to: 'T', amount: '1' });
    const at = { blockNumber: 1000000, blockHash: internalTrxBlock().block.blockID };
    expect(
      await adapter.inclusions([
        recordedTransfer(secondPayout, -3),
        recordedTransfer(bigPayout, -2),
        recordedTransfer(payout, -2),
        recordedTransfer(bigPayout, -3),
      ]),
    ).toEqual([
      { ...at, pays: { currency: 'TRX', to: 'TXtpCUXaLmjMxCXy6krUvW5hgaocd9eezd', amount: '11' } },
      { ...at, pays: { currency: 'TRX', to: 'TXtpCUXaLmjMxCXy6krUvW5hgaocd9eezd', amount: '2457950000' } },
      { ...at, pays: null },
      { ...at, pays: null },
    ]);
  });

  it('reads an internal callValue above 2^53 sun exactly, and fails the round on an unreadable internal transaction', async () => {
    const infos = recorded('gettransactioninfobyblocknum-internal-trx.json');
    const { block } = internalTrxBlock(infos);
    const text = JSON.stringify(infos).replace('"callValue":700000', '"callValue":90000000000000001');
    const { adapter } = await adapterOn(
      { ...internalTrxNode(), '/wallet/gettransactioninfobyblocknum': { raw: text, status: 200, type: 'application/json' } },
      [],
    );
    expect((await adapter.transfersTo(1000000, 1000000, everyone)).transfers[0]).toMatchObject({ transactionHash: payout, amount: '90000000000000001' });
    infos[1].internal_transactions[1].transferTo_address = 'not an address';
    const { adapter: broken } = await adapterOn({ '/wallet/getblockbylimitnext': blocks(block), '/wallet/gettransactioninfobyblocknum': () => infos }, []);
    await expect(broken.transfersTo(1000000, 1000000, everyone)).rejects.toBeInstanceOf(MalformedNodeAnswerError);
  });

  it('returns only transfers to watched addresses, asking once for all recipients', async () => {
    const asked: string[][] = [];
    const { adapter } = await adapterOn(trc20Node());
    const { transfers } = await adapter.transfersTo(30864600, 30864600, async (recipients) => {
      asked.push(recipients);
      return new Set(recipients.filter((address) => address === 'TBA6CypYJizwA9XdC7Ubgc5F1bxrQ7SqPt'));
    });
    expect(asked).toEqual([['TJ4eV1hnVAiFmeArBsuL6GkgTGVnWBe7eV', 'TBA6CypYJizwA9XdC7Ubgc5F1bxrQ7SqPt']]);
    expect(transfers.map((transfer) => transfer.to)).toEqual(['TBA6CypYJizwA9XdC7Ubgc5F1bxrQ7SqPt']);
  });

  it('reads an empty block (no `transactions` key) without asking for its transaction infos', async () => {
    const { adapter, node } = await adapterOn({ '/wallet/getblockbylimitnext': blocks(recorded('getblockbynum-empty.json')) });
    expect((await adapter.transfersTo(200, 200, everyone)).transfers).toEqual([]);
    expect(node.calls.map((call) => call.path)).toEqual(['/wallet/getblockbylimitnext']);
  });

  it('reads an amount above 2^53 sun exactly (java-tron writes int64 as a bare JSON integer)', async () => {
    const text = JSON.stringify({ block: [recorded('getblockbynum-trx-transfer.json')] }).replace('"amount":50000000', '"amount":90000000000000001');
    const { adapter } = await adapterOn({ '/wallet/getblockbylimitnext': { raw: text, status: 200, type: 'application/json' } });
    expect((await adapter.transfersTo(30864544, 30864544, everyone)).transfers.map((transfer) => transfer.amount)).toEqual(['90000000000000001']);
  });

  it('reads a block with hundreds of transactions (CONSTRUCTED: the recorded TRX transfer repeated 400 times with new ids)', async () => {
    const block = recorded('getblockbynum-trx-transfer.json');
    const template = block.transactions[0];
    block.transactions = Array.from({ length: 400 }, (_, i) => ({ ...template, txID: i.toString(16).padStart(64, '0') }));
    const { adapter } = await adapterOn({ '/wallet/getblockbylimitnext': blocks(block) });
    const transfers = (await adapter.transfersTo(30864544, 30864544, everyone)).transfers;
    expect(transfers).toHaveLength(400);
    expect(new Set(transfers.map((transfer) => transfer.transactionHash)).size).toBe(400);
  });

  it('asks for at most 100 blocks a call, and fails the round when the node lacks a block', async () => {
    const { adapter, node } = await adapterOn({
      '/wallet/getblockbylimitnext': (body) => ({
        block: Array.from({ length: Number(body.endNum) - Number(body.startNum) }, (_, i) => {
          const block = recorded('getblockbynum-empty.json');
          block.block_header.raw_data.number = Number(body.startNum) + i;
          return block;
        }),
      }),
    });
    expect((await adapter.transfersTo(1, 250, everyone)).transfers).toEqual([]);
    expect(node.calls.map((call) => call.body)).toEqual([
      { startNum: 1, endNum: 101 },
      { startNum: 101, endNum: 201 },
      { startNum: 201, endNum: 251 },
    ]);
    const { adapter: lagging } = await adapterOn({ '/wallet/getblockbylimitnext': blocks(recorded('getblockbynum-empty.json')) });
    await expect(lagging.transfersTo(200, 201, everyone)).rejects.toThrow('the node has no block 201 yet');
  });

  it('answers canonical checks: a block hash, {} past the head, and where a recorded transfer is now and what it pays there', async () => {
    const trxBlock = recorded('getblockbynum-trx-transfer.json');
    const trxId = 'c558bd35978267d8999baf6148703cbc94786f3f2e22893637588ca05437d7f0';
    const trc20 = recorded('gettransactioninfobyid-trc20.json');
    const failed = recorded('gettransactioninfobyid-trc20-failed.json');
    const infos: Record<string, unknown> = { [trxId]: recorded('gettransactioninfobyid-trx-transfer.json'), [trc20.id]: trc20, [failed.id]: failed };
    const { adapter } = await adapterOn({
      // Every height these transactions name has a block (its hash is what the checks compare).
      '/wallet/getblockbynum': (body) => ([30864544, 27662687, 30864600, 66860010].includes(body.num as number) ? trxBlock : {}),
      '/wallet/gettransactioninfobyid': (body) => infos[body.value as string] ?? {},
      '/wallet/gettransactionbyid': (body) => (body.value === trxId ? recorded('gettransactionbyid-trx-hex.json') : {}),
    });
    expect(await adapter.blockHashes([30864544, 99999999])).toEqual([trxBlock.blockID, null]);
    const [log] = trc20.log as Array<{ topics: string[]; data: string }>;
    const recordedTransfer = { to: 'T', amount: '1', currency: 'USDT' };
    expect(
      await adapter.inclusions([
        { ...recordedTransfer, transactionHash: trxId, logIndex: NATIVE_LOG_INDEX, currency: 'TRX' },
        { ...recordedTransfer, transactionHash: trc20.id, logIndex: 0 },
        { ...recordedTransfer, transactionHash: failed.id, logIndex: 0 },
        { ...recordedTransfer, transactionHash: 'ff'.repeat(32), logIndex: 0 },
      ]),
    ).toEqual([
      {
        blockNumber: 27662687,
        blockHash: trxBlock.blockID,
        pays: { currency: 'TRX', to: tronAddressFromAccountId(Buffer.from('d0b69631440f0a494bb51f7eee68ff5c593c00f0', 'hex')), amount: '10000000' },
      },
      {
        blockNumber: 30864600,
        blockHash: trxBlock.blockID,
        pays: { currency: 'USDT', to: tronAddressFromAccountId(Buffer.from(log!.topics[2]!.slice(24), 'hex')), amount: BigInt(`0x${log!.data}`).toString() },
      },
      // A contract call that failed pays nothing, wherever it is.
      { blockNumber: 66860010, blockHash: trxBlock.blockID, pays: null },
      null,
    ]);
  });

  it('sends the configured headers (a hosted provider’s API key) on every call', async () => {
    const seen: string[] = [];
    const server = http.createServer((request, response) => {
      seen.push(String(request.headers['tron-pro-api-key']));
      request.resume().on('end', () => response.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(recorded('getnowblock.json'))));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const adapter = new TronAdapter({
        rpcUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        nativeCurrency: 'TRX',
        tokens: [],
        headers: { 'TRON-PRO-API-KEY': 'k-1' },
      });
      expect(await adapter.head()).toBe(66987627);
      expect(seen).toEqual(['k-1']);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  describe('a malformed answer fails the call clearly (the round is retried; no block is skipped)', () => {
    it.each([
      ['an HTML error page', { raw: '<html><body>502 Bad Gateway</body></html>', status: 502, type: 'text/html' }, /answered HTTP 502: <html>/],
      ['truncated JSON', { raw: '{"block":[{"blockID":"00', status: 200, type: 'application/json' }, /answered something that is not JSON/],
      [
        'a block without its blockID',
        { raw: JSON.stringify({ block: [{ block_header: { raw_data: { number: 5 } } }] }), status: 200, type: 'application/json' },
        /a block without blockID/,
      ],
      [
        "java-tron's own error object",
        { raw: JSON.stringify({ Error: 'class java.lang.NullPointerException : null' }), status: 200, type: 'application/json' },
        /answered an error: class java/,
      ],
    ])('%s', async (_label, answer, message) => {
      const { adapter } = await adapterOn({ '/wallet/getblockbylimitnext': answer });
      const failure = await adapter.transfersTo(5, 5, everyone).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(MalformedNodeAnswerError);
      expect((failure as Error).message).toMatch(message);
    });
  });
});
