import { useMemo, useRef, useState, type KeyboardEvent } from 'react';
import type { OutcomeNode } from '../api/types';
import { formatNumber } from '../format';
import { words } from '../vocabulary';

interface Flat {
  key: string;
  node: OutcomeNode;
  level: number;
  parent: string | null;
  setSize: number;
  position: number;
}

function keyed(nodes: OutcomeNode[], level = 1, parent: string | null = null, out: Flat[] = []): Flat[] {
  nodes.forEach((node, index) => {
    const key = parent === null ? `${index}` : `${parent}.${index}`;
    out.push({ key, node, level, parent, setSize: nodes.length, position: index + 1 });
    keyed(node.children, level + 1, key, out);
  });
  return out;
}

/**
 * The outcome tree as an ARIA tree: every node expanded at first; Up and Down move between the
 * visible nodes, Right expands or enters a node, Left collapses or returns to the parent, Home
 * and End jump, Enter and Space expand or collapse.
 */
export function OutcomeTree({ outcomes, label }: { outcomes: OutcomeNode[]; label: string }) {
  const all = useMemo(() => keyed(outcomes), [outcomes]);
  const [collapsed, setCollapsed] = useState<Set<string>>(() => new Set());
  const [active, setActive] = useState<string>('0');
  const refs = useRef(new Map<string, HTMLElement>());

  const visible = all.filter((entry) => {
    for (
      let parent = entry.parent;
      parent !== null;
      parent = all.find((one) => one.key === parent)?.parent ?? null
    ) {
      if (collapsed.has(parent)) return false;
    }
    return true;
  });

  const focus = (key: string) => {
    setActive(key);
    refs.current.get(key)?.focus();
  };
  const setOpen = (key: string, open: boolean) =>
    setCollapsed((current) => {
      const next = new Set(current);
      if (open) next.delete(key);
      else next.add(key);
      return next;
    });

  const onKeyDown = (event: KeyboardEvent, entry: Flat) => {
    const index = visible.findIndex((one) => one.key === entry.key);
    const hasChildren = entry.node.children.length > 0;
    const open = hasChildren && !collapsed.has(entry.key);
    const actions: Record<string, () => void> = {
      ArrowDown: () => visible[index + 1] && focus(visible[index + 1].key),
      ArrowUp: () => visible[index - 1] && focus(visible[index - 1].key),
      Home: () => focus(visible[0].key),
      End: () => focus(visible[visible.length - 1].key),
      ArrowRight: () => {
        if (hasChildren && !open) setOpen(entry.key, true);
        else if (open) focus(`${entry.key}.0`);
      },
      ArrowLeft: () => {
        if (open) setOpen(entry.key, false);
        else if (entry.parent !== null) focus(entry.parent);
      },
      Enter: () => hasChildren && setOpen(entry.key, !open),
      ' ': () => hasChildren && setOpen(entry.key, !open),
    };
    const action = actions[event.key];
    if (action) {
      event.preventDefault();
      event.stopPropagation();
      action();
    }
  };

  const render = (entries: Flat[]) => (
    <>
      {entries.map((entry) => {
        const { node } = entry;
        const hasChildren = node.children.length > 0;
        const open = hasChildren && !collapsed.has(entry.key);
        const children = all.filter((one) => one.parent === entry.key);
        return (
          <li
            key={entry.key}
            role="treeitem"
            aria-level={entry.level}
            aria-setsize={entry.setSize}
            aria-posinset={entry.position}
            aria-expanded={hasChildren ? open : undefined}
            tabIndex={entry.key === active ? 0 : -1}
            ref={(element) => {
              if (element) refs.current.set(entry.key, element);
              else refs.current.delete(entry.key);
            }}
            onKeyDown={(event) => onKeyDown(event, entry)}
            onFocus={(event) => {
              if (event.target === event.currentTarget) setActive(entry.key);
            }}
          >
            <div className="tree-node">
              {hasChildren ? (
                <span
                  className="tree-toggle"
                  aria-hidden="true"
                  onClick={(event) => {
                    event.stopPropagation();
                    setOpen(entry.key, !open);
                    setActive(entry.key);
                  }}
                >
                  {open ? '▾' : '▸'}
                </span>
              ) : (
                <span className="tree-toggle leaf" aria-hidden="true">
                  •
                </span>
              )}
              <span className="tree-type">{words(node.type)}</span>
              {node.detailCount !== null && (
                <span className="tree-count">
                  {formatNumber(node.detailCount)} {node.detailCount === 1 ? 'detail' : 'details'}
                </span>
              )}
              {node.detailMessage && <span className="tree-message">{node.detailMessage}</span>}
              {(node.targetDescription || node.targetId) && (
                <span className="tree-target">
                  → {node.targetDescription ?? 'target'}
                  {node.targetId && <code className="tree-target-id">{node.targetId}</code>}
                </span>
              )}
            </div>
            {hasChildren && open && <ul role="group">{render(children)}</ul>}
          </li>
        );
      })}
    </>
  );

  if (outcomes.length === 0) return <p className="hint">No outcomes were recorded for this item.</p>;
  return (
    <ul role="tree" aria-label={label} className="tree">
      {render(all.filter((entry) => entry.parent === null))}
    </ul>
  );
}
