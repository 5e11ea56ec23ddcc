/**
 * What a list method returns: awaited, the first page (`{object: 'list', data, has_more}`);
 * iterated with `for await`, every object of every page, fetching the next page (cursor: the last
 * id seen) only when the previous one is used up. The first request is sent when the list is first
 * awaited or iterated, not before, so a list nobody reads costs nothing and cannot reject unheard.
 */
export interface List<Item> {
  object: 'list';
  data: Item[];
  has_more: boolean;
}

/** Fetches one page: the caller's own `starting_after` for the first (undefined), the cursor for the next ones. */
export type PageFetcher<Item> = (startingAfter: string | undefined) => Promise<List<Item>>;

export class ListRequest<Item extends { id: string }> implements Promise<List<Item>>, AsyncIterable<Item> {
  readonly [Symbol.toStringTag] = 'ListRequest';
  readonly #fetchPage: PageFetcher<Item>;
  #firstPage: Promise<List<Item>> | undefined;

  constructor(fetchPage: PageFetcher<Item>) {
    this.#fetchPage = fetchPage;
  }

  #first(): Promise<List<Item>> {
    return (this.#firstPage ??= this.#fetchPage(undefined));
  }

  then<Fulfilled = List<Item>, Rejected = never>(
    onFulfilled?: ((page: List<Item>) => Fulfilled | PromiseLike<Fulfilled>) | null,
    onRejected?: ((reason: any) => Rejected | PromiseLike<Rejected>) | null,
  ): Promise<Fulfilled | Rejected> {
    return this.#first().then(onFulfilled, onRejected);
  }

  catch<Rejected = never>(onRejected?: ((reason: any) => Rejected | PromiseLike<Rejected>) | null): Promise<List<Item> | Rejected> {
    return this.#first().catch(onRejected);
  }

  finally(onFinally?: (() => void) | null): Promise<List<Item>> {
    return this.#first().finally(onFinally);
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Item, void, undefined> {
    let page = await this.#first();
    for (;;) {
      yield* page.data;
      const last = page.data.at(-1);
      if (!page.has_more || !last) return;
      page = await this.#fetchPage(last.id);
    }
  }

  /**
   * Every object of every page, up to `limit` (required, so a list that grows without bound
   * cannot fill memory unnoticed); stops fetching once it has that many.
   */
  async autoPagingToArray({ limit }: { limit: number }): Promise<Item[]> {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError('autoPagingToArray: limit must be a positive whole number');
    const items: Item[] = [];
    for await (const item of this) {
      items.push(item);
      if (items.length >= limit) break;
    }
    return items;
  }
}
