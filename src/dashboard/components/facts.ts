/** The `<dl class="facts">` of a detail page: one term and its value a line. */
import { attributes, html, type Interpolation, type SafeHtml } from '../html';

/** A term, its value, and the value's <dd> attributes (`data-fee`…) by which the page's script finds it. */
export type Fact = readonly [term: string, value: Interpolation, attributes?: SafeHtml];

/** The facts in order; a `false` entry (a fact the object does not have) is left out. */
export function facts(entries: ReadonlyArray<Fact | false>, listAttributes?: SafeHtml): SafeHtml {
  return html`<dl${attributes(html`class="facts"`, listAttributes)}>
    ${entries.map(
      (entry) =>
        entry &&
        html`<dt>${entry[0]}</dt>
          <dd${attributes(entry[2])}>${entry[1]}</dd>`,
    )}
  </dl>`;
}

/** An object's metadata as text (never markup: a value holding `<script>` shows as typed). */
export function metadataFacts(metadata: Record<string, string>): SafeHtml {
  const entries = Object.entries(metadata);
  return entries.length ? facts(entries, html`data-metadata`) : html`<p data-metadata>No metadata.</p>`;
}
