import type { AdfNode } from './jira-schemas';

/**
 * Atlassian Document Format, built by hand for descriptions and comments: Jira Cloud v3 takes only
 * ADF there, and refuses an empty text node, so every builder drops empty text.
 */
export type Inline = string | { text: string; href?: string; strong?: boolean };

function textNode(part: Inline): AdfNode | undefined {
  const p = typeof part === 'string' ? { text: part } : part;
  if (p.text === '') return undefined;
  const marks = [...(p.strong ? [{ type: 'strong' }] : []), ...(p.href ? [{ type: 'link', attrs: { href: p.href } }] : [])];
  return { type: 'text', text: p.text, ...(marks.length ? { marks } : {}) };
}

export function paragraph(...parts: Inline[]): AdfNode {
  const content = parts.map(textNode).filter((n): n is AdfNode => n !== undefined);
  return { type: 'paragraph', ...(content.length ? { content } : {}) };
}

export function heading(text: string, level = 3): AdfNode {
  return { type: 'heading', attrs: { level }, content: [{ type: 'text', text: text || '-' }] };
}

/** A bullet list of `Label: text` items (the label in bold). */
export function factList(items: Array<{ label: string; parts: Inline[] }>): AdfNode {
  return {
    type: 'bulletList',
    content: items.map((item) => ({ type: 'listItem', content: [paragraph({ text: `${item.label}: `, strong: true }, ...item.parts)] })),
  };
}

export function doc(...content: AdfNode[]): AdfNode {
  return { type: 'doc', version: 1, content: content.length ? content : [paragraph('-')] };
}

/** The plain text of an ADF node (a comment's body): paragraphs and list items on their own lines. */
export function adfText(node: AdfNode | undefined): string {
  if (!node) return '';
  if (node.type === 'text') return node.text ?? '';
  if (node.type === 'hardBreak') return '\n';
  if (node.type === 'mention') return typeof node.attrs?.text === 'string' ? node.attrs.text : '';
  const inner = (node.content ?? []).map(adfText);
  const block = ['paragraph', 'heading', 'listItem', 'codeBlock', 'blockquote'].includes(node.type);
  return block ? `${inner.join('').trim()}\n` : inner.join('');
}
