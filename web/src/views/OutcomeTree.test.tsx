import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import type { OutcomeNode } from '../api/types';
import { OutcomeTree } from './OutcomeTree';

const node = (type: string, children: OutcomeNode[] = [], extra: Partial<OutcomeNode> = {}): OutcomeNode => ({
  type,
  detailCount: null,
  detailMessage: null,
  targetId: null,
  targetDescription: null,
  children,
  ...extra,
});

const TREE = [
  node('Disconnected', [
    node('MvoDeleted', [
      node('DeprovisionQueued', [], { targetDescription: 'Corporate LDAP', targetId: 'cs-1' }),
    ]),
  ]),
  node('AttributeFlow', [], { detailCount: 14, detailMessage: 'mail' }),
];

describe('OutcomeTree', () => {
  it('shows every node with its detail count and target', () => {
    render(<OutcomeTree outcomes={TREE} label="Outcome tree" />);
    const items = screen.getAllByRole('treeitem');
    expect(items.map((item) => item.getAttribute('aria-level'))).toEqual(['1', '2', '3', '1']);
    expect(screen.getByText('14 details')).toBeTruthy();
    expect(screen.getByText('mail')).toBeTruthy();
    expect(screen.getByText(/Corporate LDAP/)).toBeTruthy();
    expect(screen.getByText('cs-1')).toBeTruthy();
  });

  it('works from the keyboard: down, collapse, expand, into the children and back to the parent', async () => {
    const user = userEvent.setup();
    render(<OutcomeTree outcomes={TREE} label="Outcome tree" />);
    const [disconnected] = screen.getAllByRole('treeitem');
    disconnected.focus();
    await user.keyboard('{ArrowLeft}');
    expect(disconnected.getAttribute('aria-expanded')).toBe('false');
    expect(screen.getAllByRole('treeitem')).toHaveLength(2);
    await user.keyboard('{ArrowDown}');
    expect(document.activeElement?.textContent).toContain('Attribute flow');
    await user.keyboard('{ArrowUp}{ArrowRight}');
    expect(disconnected.getAttribute('aria-expanded')).toBe('true');
    await user.keyboard('{ArrowRight}');
    expect(document.activeElement?.textContent).toMatch(/^.MVO deleted/);
    await user.keyboard('{ArrowLeft}{ArrowLeft}');
    expect(document.activeElement).toBe(disconnected);
    await user.keyboard('{End}');
    expect(document.activeElement?.textContent).toContain('Attribute flow');
  });

  it('says so when an item has no outcomes', () => {
    render(<OutcomeTree outcomes={[]} label="Outcome tree" />);
    expect(screen.getByText('No outcomes were recorded for this item.')).toBeTruthy();
  });
});
