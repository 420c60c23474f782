import type { OutcomeNode } from './entities/execution-item.entity';
import { prepareItems } from './new-items';
import type { OutcomeType } from './vocabulary';

function node(type: OutcomeType, children: OutcomeNode[] = []): OutcomeNode {
  return { type, children };
}

function summaryOf(outcomes: OutcomeNode[]): string | null {
  return prepareItems([{ objectChangeType: 'Update', outcomes }])[0].outcomeSummary;
}

describe('outcomeSummary', () => {
  it('is null for an empty tree', () => {
    expect(summaryOf([])).toBeNull();
  });

  it('counts roots and descendants alike, in canonical order (the contract example)', () => {
    const tree = [
      node('Projected', [node('PendingExportCreated'), node('AttributeFlow'), node('PendingExportCreated')]),
    ];
    expect(summaryOf(tree)).toBe('Projected:1,AttributeFlow:1,PendingExportCreated:2');
  });

  it('orders by the canonical list, not by position in the tree', () => {
    const tree = [node('DeprovisionQueued'), node('Disconnected', [node('MvoDeleted', [node('CsoAdded')])])];
    expect(summaryOf(tree)).toBe('CsoAdded:1,Disconnected:1,MvoDeleted:1,DeprovisionQueued:1');
  });

  it('adds up several roots of the same type', () => {
    expect(summaryOf([node('AttributeFlow'), node('AttributeFlow'), node('AttributeFlow')])).toBe(
      'AttributeFlow:3',
    );
  });
});
