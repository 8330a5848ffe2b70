/** Small DOM helpers the panels share. */

/** A new element with an optional class and text. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className?: string,
  text?: string
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) {
    node.className = className;
  }
  if (text !== undefined) {
    node.textContent = text;
  }
  return node;
}

/** `1 file`, `2 files`. */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** A JupyterLab-styled `<button type="button">` with a tooltip. */
export function button(className: string, text: string, title?: string): HTMLButtonElement {
  const node = el('button', `jp-Button jp-mod-styled ${className}`, text);
  node.type = 'button';
  if (title) {
    node.title = title;
  }
  return node;
}
