import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { Activity, type ExecutionRunsService, type NewExecutionItem } from '../execution-items';
import { FLOWED_ATTRIBUTES, seededRandom, syntheticItem } from './synthetic-items';

/** Fixed ids, so the README's examples work against any fresh demo database. */
export const DEMO_ACTIVITIES = {
  synchronisation: '7d3e2a10-5c4b-4f6e-9a8d-1b2c3d4e5f60',
  failedExport: '9e8f7a6b-5c4d-4e3f-8a2b-1c0d9e8f7a6b',
  connectedSystemChange: 'c0ffee00-1234-4abc-8def-000000000001',
} as const;

/** The contract's example item, first in the demo synchronisation run. */
const JANE_SMITH: NewExecutionItem = {
  objectChangeType: 'Update',
  externalIdValue: 'a4f2e8c1-3b7d-4e9a-b5c6-d8f0e1a2b3c4',
  displayName: 'Jane Smith',
  objectType: 'user',
  outcomes: [
    ...[...FLOWED_ATTRIBUTES, 'company', 'employeeId', 'physicalDeliveryOfficeName', 'mobile'].map(
      (attribute) => ({
        type: 'AttributeFlow' as const,
        detailCount: 1,
        detailMessage: attribute,
      }),
    ),
    {
      type: 'PendingExportCreated',
      targetId: 'b7c1d9e2-0a3f-4c5d-8e6f-7a8b9c0d1e2f',
      targetDescription: 'Corporate LDAP',
    },
  ],
};

const JOHN_DOE: NewExecutionItem = {
  objectChangeType: 'Projected',
  externalIdValue: 'c9d8e7f6-a5b4-4c3d-9e2f-1a0b9c8d7e6f',
  displayName: 'John Doe',
  objectType: 'user',
  outcomes: [
    {
      type: 'Projected',
      children: [
        { type: 'AttributeFlow', detailCount: 8 },
        { type: 'PendingExportCreated', targetDescription: 'Corporate LDAP' },
        { type: 'PendingExportCreated', targetDescription: 'Microsoft Entra ID' },
      ],
    },
  ],
};

/**
 * Loads the demo set into an empty database: a 248-item synchronisation run that makes the
 * contract's example real, an export run with many errors, and one activity that is not a run.
 * Does nothing (and returns false) when any activity exists.
 */
export async function loadDemoData(runs: ExecutionRunsService, dataSource: DataSource): Promise<boolean> {
  if ((await dataSource.getRepository(Activity).count({ take: 1 })) > 0) return false;

  const sync = await runs.startRun({
    id: DEMO_ACTIVITIES.synchronisation,
    connectedSystemName: 'HR Feed',
    runProfileName: 'Full Synchronisation',
    runType: 'FullSynchronisation',
  });
  const random = seededRandom(248);
  const rest = Array.from({ length: 246 }, (_, index) => syntheticItem(index + 3, random, 0.03));
  await runs.appendItems(sync.id, [JANE_SMITH, JOHN_DOE, ...rest]);
  await runs.completeRun(sync.id, { status: 'CompleteWithWarning' });

  const exportRun = await runs.startRun({
    id: DEMO_ACTIVITIES.failedExport,
    connectedSystemName: 'Corporate LDAP',
    runProfileName: 'Export',
    runType: 'Export',
  });
  const exportRandom = seededRandom(60);
  await runs.appendItems(
    exportRun.id,
    Array.from({ length: 60 }, (_, index) => syntheticItem(index + 1, exportRandom, 0.6)),
  );
  await runs.completeRun(exportRun.id, { status: 'CompleteWithError' });

  await dataSource.getRepository(Activity).insert({
    id: DEMO_ACTIVITIES.connectedSystemChange,
    targetType: 'ConnectedSystem',
    targetName: 'Corporate LDAP',
    targetContext: null,
    runType: null,
    status: 'Complete',
    completed: new Date(),
  });
  new Logger('DemoData').log(`Loaded demo activities; the 248-item run is ${sync.id}`);
  return true;
}
