/** The client side of `text/event-stream` (the WHATWG EventSource format): the SDK's `events.stream` (which the CLI's `listen` and `trigger` use) reads `GET /events/stream` with it. */

export interface ServerSentEvent {
  /** The `id:` of this event, if it had one. */
  id: string | undefined;
  /** `event:`, or "message" when absent. */
  event: string;
  /** The `data:` lines joined with "\n". */
  data: string;
}

/** The events of a response body as they arrive; comment lines (heartbeats) are skipped. Ends when the body does. */
export async function* readServerSentEvents(body: AsyncIterable<Uint8Array>): AsyncGenerator<ServerSentEvent> {
  const decoder = new TextDecoder();
  let buffered = '';
  let id: string | undefined;
  let event = '';
  let data: string[] = [];
  for await (const chunk of body) {
    buffered += decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline).replace(/\r$/, '');
      buffered = buffered.slice(newline + 1);
      if (line === '') {
        if (data.length > 0) yield { id, event: event || 'message', data: data.join('\n') };
        [id, event, data] = [undefined, '', []];
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'id') id = value;
      else if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
    }
  }
}
