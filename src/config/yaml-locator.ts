import { isAlias, isMap, isScalar, isSeq, type Document, type LineCounter, type Node, type Pair } from 'yaml';

export interface SourcePosition {
  /** 1-based */
  line: number;
  /** 1-based */
  column: number;
}

export type YamlPath = readonly PropertyKey[];

interface Walked {
  /** The node at the end of the walk, or the deepest one that exists. */
  node: unknown;
  /** The key of the map entry holding `node`, when it is a map value. */
  key: Node | undefined;
  complete: boolean;
  /** The first alias (`*name`) the walk went through, if any. */
  via: Node | undefined;
}

const MAX_ALIAS_HOPS = 16;

/** Maps a path through the parsed data (`['workflows', 'prod', 'stages', 0]`) back to a place in the YAML text. */
export class YamlLocator {
  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  positionAt(offset: number): SourcePosition {
    const { line, col } = this.lines.linePos(offset);
    return { line, column: col };
  }

  /**
   * Where the value at `path` is written. A mapping, list or empty value is shown at its key, where
   * the person reads it; a missing entry at the key of the closest entry that exists.
   */
  valuePosition(path: YamlPath): SourcePosition {
    const walked = this.walk(path);
    const node = walked.node;
    if (walked.complete && (isAlias(node) || (isScalar(node) && node.value !== null)))
      return this.nodePosition(node) ?? this.start();
    return this.nodePosition(walked.key) ?? this.nodePosition(node) ?? this.start();
  }

  /** Where the key of the entry at `path` is written (the value's position for list items). */
  keyPosition(path: YamlPath): SourcePosition {
    const walked = this.walk(path);
    if (walked.complete && walked.key) return this.nodePosition(walked.key) ?? this.start();
    return this.valuePosition(path);
  }

  /**
   * When the path runs through an alias (`approvers: *security`), where that alias is written: the
   * positions above then point into the anchored node, which is where a fix goes.
   */
  aliasOnPath(path: YamlPath): SourcePosition | undefined {
    return this.nodePosition(this.walk(path).via);
  }

  /** Resolves a DUPLICATE_KEY error: which entry is repeated, and where it first appeared. */
  duplicateKeyAt(offset: number): { path: PropertyKey[]; first?: SourcePosition } | undefined {
    const search = (node: unknown, path: PropertyKey[]): { path: PropertyKey[]; first?: SourcePosition } | undefined => {
      if (isMap(node)) {
        const pairs = node.items as Pair[];
        for (const [i, pair] of pairs.entries()) {
          const key = scalarKey(pair);
          if (key !== undefined && rangeStart(pair.key) === offset) {
            const earlier = pairs.slice(0, i).find((p) => scalarKey(p) === key);
            return { path: [...path, key], first: earlier ? this.nodePosition(earlier.key) : undefined };
          }
          const inner = search(pair.value, key === undefined ? path : [...path, key]);
          if (inner) return inner;
        }
      } else if (isSeq(node)) {
        for (const [i, item] of node.items.entries()) {
          const inner = search(item, [...path, i]);
          if (inner) return inner;
        }
      }
      return undefined;
    };
    return search(this.doc.contents, []);
  }

  private walk(path: YamlPath): Walked {
    let node: unknown = this.doc.contents;
    let key: Node | undefined;
    let via: Node | undefined;
    for (const segment of path) {
      if (isAlias(node)) via ??= node;
      const container = this.deref(node);
      if (isMap(container)) {
        const pair = (container.items as Pair[]).find((p) => scalarKey(p) === String(segment));
        if (!pair) return { node, key, complete: false, via };
        key = pair.key as Node;
        node = pair.value;
      } else if (isSeq(container)) {
        const item: unknown = container.items[Number(segment)];
        if (item === undefined) return { node, key, complete: false, via };
        key = undefined;
        node = item;
      } else {
        return { node, key, complete: false, via };
      }
    }
    return { node, key, complete: true, via };
  }

  private deref(node: unknown): unknown {
    let current = node;
    for (let hops = 0; isAlias(current) && hops < MAX_ALIAS_HOPS; hops++) current = current.resolve(this.doc);
    return current;
  }

  private nodePosition(node: unknown): SourcePosition | undefined {
    const offset = rangeStart(node);
    return offset === undefined ? undefined : this.positionAt(offset);
  }

  private start(): SourcePosition {
    return { line: 1, column: 1 };
  }
}

function scalarKey(pair: Pair): string | undefined {
  return isScalar(pair.key) && pair.key.value !== null ? String(pair.key.value) : undefined;
}

function rangeStart(node: unknown): number | undefined {
  if (node !== null && typeof node === 'object' && 'range' in node) {
    const range = (node as { range?: [number, number, number] | null }).range;
    return range ? range[0] : undefined;
  }
  return undefined;
}
