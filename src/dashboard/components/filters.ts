/** The filter forms above list pages (a GET, so a filtered list is a link). */
import { html, type SafeHtml } from '../html';

/** The query's value when it is one of `allowed`; anything else is no filter rather than an API error. */
export const pick = <T extends string>(value: unknown, allowed: readonly T[]): T | undefined => (allowed.includes(value as T) ? (value as T) : undefined);

/** A list filter's labelled <select>: "Any", then the allowed values, the chosen one selected. */
export function choiceFilter(id: string, label: string, name: string, values: readonly string[], chosen: string | undefined): SafeHtml {
  return html`<label for="${id}"
    >${label}
    <select id="${id}" name="${name}">
      <option value="">Any</option>
      ${values.map((value) => html`<option${value === chosen ? html` selected` : ''}>${value}</option>`)}
    </select></label
  >`;
}

/** The form around a list's filters, sent to the list itself. */
export function filterForm(options: { id?: string; action: string; label: string }, fields: SafeHtml[]): SafeHtml {
  return html`<form${options.id ? html` id="${options.id}"` : ''} class="inline card" method="get" action="${options.action}" role="search" aria-label="${options.label}">
    ${fields}
    <button type="submit">Filter</button>
  </form>`;
}
