/**
 * A tagged template that escapes every interpolation: `html\`<p>${name}</p>\`` renders a name
 * holding `<script>` as text. Only values that are already SafeHtml (another html`` result, or
 * a list of them) pass through unescaped.
 */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

export type Interpolation = SafeHtml | string | number | boolean | null | undefined | readonly Interpolation[];

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

function render(value: Interpolation): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: Interpolation[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((value, index) => {
    out += render(value) + (strings[index + 1] ?? '');
  });
  return new SafeHtml(out);
}

/** Markup made by trusted code (the QR package's SVG); never for anything a user typed. */
export function trustedMarkup(markup: string): SafeHtml {
  return new SafeHtml(markup);
}

/**
 * Attributes that may be absent, written right after a tag's name (`<td${attributes(a, b)}>`):
 * each present one with its leading space, so an absent one leaves no stray space in the tag.
 */
export function attributes(...list: Array<SafeHtml | false | undefined>): SafeHtml {
  return new SafeHtml(list.map((attribute) => (attribute ? ` ${attribute.value}` : '')).join(''));
}
