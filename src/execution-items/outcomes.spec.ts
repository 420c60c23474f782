import type { OutcomeNode } from './entities/execution-item.entity';
import { summariseOutcomes } from './outcomes';
import type { OutcomeType } from './vocabulary';

function node(type: OutcomeType, children: OutcomeNode[] = []): OutcomeNode {
  return { type, detailCount: null, detailMessage: null, targetId: null, targetDescription: null, children };
}

describe('summariseOutcomes', () => {
  it('is null for an empty tree', () => {
    expect(summariseOutcomes([])).toBeNull();
  });

  it('counts roots and descendants alike, in canonical order (the contract example)', () => {
    const tree = [
      node('Projected', [node('PendingExportCreated'), node('AttributeFlow'), node('PendingExportCreated')]),
    ];
    expect(summariseOutcomes(tree)).toBe('Projected:1,AttributeFlow:1,PendingExportCreated:2');
  });

  it('orders by the canonical list, not by position in the tree', () => {
    const tree = [node('DeprovisionQueued'), node('Disconnected', [node('MvoDeleted', [node('CsoAdded')])])];
    expect(summariseOutcomes(tree)).toBe('CsoAdded:1,Disconnected:1,MvoDeleted:1,DeprovisionQueued:1');
  });

  it('adds up several roots of the same type', () => {
    expect(summariseOutcomes([node('AttributeFlow'), node('AttributeFlow'), node('AttributeFlow')])).toBe(
      'AttributeFlow:3',
    );
  });
});
