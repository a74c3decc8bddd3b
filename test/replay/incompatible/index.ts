/**
 * orders_daily_etl with a task added in front of extract *without* `patched()`: the change a
 * deploy must never ship while runs are in flight. Replaying old histories against it must
 * raise DeterminismViolationError.
 */
import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { Activities } from '../../../activities';
import type { OrdersDailyEtlInput } from '../../../src/contracts';

export async function ordersDailyEtl({ ds }: OrdersDailyEtlInput): Promise<void> {
  const { runSettings } = proxyLocalActivities<Activities>({ startToCloseTimeout: '10s' });
  await runSettings();
  const etl = proxyActivities<Activities>({ startToCloseTimeout: '2h' });
  await etl.validate({ ds, rowCount: 0 }); // the new task, scheduled where history has extract
  const { rowCount } = await etl.extract({ ds });
  await etl.transform({ ds, rowCount });
}
