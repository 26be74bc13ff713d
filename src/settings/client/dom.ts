/**
 * Small typed helpers for building the page with the DOM. Everything the API
 * returns goes in as text (textContent or attributes), never as HTML.
 */

/** The element with this id, checked to be of the expected kind: a missing or wrong element fails loudly at start. */
export function byId<T extends HTMLElement = HTMLElement>(id: string, kind?: abstract new () => T): T {
  const node = document.getElementById(id);
  if (!node || (kind && !(node instanceof kind))) throw new Error(`settings page: #${id} is missing or not a ${kind?.name ?? "element"}`);
  return node as T;
}

export type Child = Node | string | null | undefined;

/** `text` sets textContent, `className` the class, `hidden` the property; any other name is an attribute. */
export interface Props {
  text?: string;
  className?: string;
  hidden?: boolean;
  [attribute: string]: string | boolean | undefined;
}

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, props?: Props, children?: readonly Child[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props ?? {})) {
    if (value === undefined) continue;
    if (name === "text") node.textContent = String(value);
    else if (name === "className") node.className = String(value);
    else if (name === "hidden") node.hidden = Boolean(value);
    else node.setAttribute(name, String(value));
  }
  for (const child of children ?? []) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

export const quoted = (name: string): string => `\u201c${name}\u201d`;

/** Ends a message with a full stop unless it already ends a sentence. */
export const sentence = (s: string): string => (/[.!?]$/.test(s) ? s : `${s}.`);
