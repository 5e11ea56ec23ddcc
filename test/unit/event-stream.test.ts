import { readServerSentEvents } from '../../sdk/src/server-sent-events';
import { eventTypes } from '../../src/domain/events';
import { idFloor, newId, timeOfId } from '../../src/domain/ids';
import { StreamEventsQuery } from '../../src/events/events.schema';

describe('ids as time bounds', () => {
  it('idFloor sorts after every id made earlier and at or before every id made then or later', () => {
    const time = 1_763_870_000_123;
    const floor = idFloor('event', time);
    expect(floor).toMatch(/^evt_[0-9a-z]{26}$/);
    for (let i = 0; i < 100; i++) {
      expect(newId('event', time - 1) < floor).toBe(true);
      expect(newId('event', time) >= floor).toBe(true);
      expect(newId('event', time + 1) > floor).toBe(true);
    }
  });

  it('timeOfId reads back the time an id was made', () => {
    for (const time of [0, 1, 1_763_870_000_123, 2 ** 48 - 1]) expect(timeOfId(newId('event', time))).toBe(time);
  });
});

describe('StreamEventsQuery', () => {
  const typesOf = (types: string) => StreamEventsQuery.parse({ types }).types;

  it('turns patterns into the event types they match', () => {
    expect(typesOf('deposit.*')).toEqual(eventTypes.filter((type) => type.startsWith('deposit.')));
    expect(typesOf('order.completed, customer.created')).toEqual(['order.completed', 'customer.created']);
    expect(typesOf('*')).toEqual(eventTypes);
    expect(typesOf('deposit.completed,deposit.*')).toHaveLength(eventTypes.filter((type) => type.startsWith('deposit.')).length);
    expect(StreamEventsQuery.parse({}).types).toBeUndefined();
  });

  it('refuses a pattern that matches nothing', () => {
    for (const types of ['order.paid', 'deposit', 'deposit.', '.*', 'deposit.*,', '', 'DEPOSIT.*']) {
      expect([types, StreamEventsQuery.safeParse({ types }).success]).toEqual([types, false]);
    }
  });
});

describe('readServerSentEvents', () => {
  async function* chunks(...parts: string[]) {
    for (const part of parts) yield new TextEncoder().encode(part);
  }
  const read = async (...parts: string[]) => {
    const events = [];
    for await (const event of readServerSentEvents(chunks(...parts))) events.push(event);
    return events;
  };

  it('reads events split anywhere across chunks, skipping comments', async () => {
    expect(
      await read(': stream open\n\n', 'id: evt_1\nevent: deposit.completed\nda', 'ta: {"a":1}\n', '\n: heartbeat\n\nid: evt_2\r\ndata: x\r\ndata: y\r\n\r\n'),
    ).toEqual([
      { id: 'evt_1', event: 'deposit.completed', data: '{"a":1}' },
      { id: 'evt_2', event: 'message', data: 'x\ny' },
    ]);
  });

  it('drops an event the stream ended in the middle of', async () => {
    expect(await read('id: evt_1\ndata: {"a":1}\n')).toEqual([]);
  });
});
