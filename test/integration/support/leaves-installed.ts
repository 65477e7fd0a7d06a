/**
 * Runs after every integration test file: the file must leave the cluster as global-setup left it,
 * with this version installed. Files that uninstall put it back in their own afterAll; one that
 * forgets makes whichever file jest happens to order next fail for a reason of somebody else's,
 * and jest orders files differently on a fresh machine. This names the file that forgot.
 */
import { ensureInstalled, planDeployment } from '../../../src/apply/deploy';
import { connect } from '../../../src/cluster';
import { loadContent } from '../../../src/content';
import { PACKAGE_VERSION } from '../../../src/package-info';
import { testUrl } from './engine-env';

afterAll(async () => {
  const client = await connect({ url: testUrl() });
  try {
    const ctx = { client, content: loadContent(), packageVersion: PACKAGE_VERSION, now: new Date().toISOString() };
    const planned = await planDeployment(ctx);
    const pending = planned.plan.waves.flatMap((w) => w.items).filter((i) => i.action !== 'noop' && i.action !== 'skip');
    if (pending.length) {
      // Put it back so the next file is not failed too, then fail this one.
      await ensureInstalled(ctx);
      const shown = pending.slice(0, 5).map((i) => `${i.action} ${i.kind} ${i.name}`);
      throw new Error(`this test file left the cluster without cryptochannel ${PACKAGE_VERSION} installed: the plan has ${pending.length} item(s) to do (${shown.join(', ')}${pending.length > shown.length ? ', …' : ''})`);
    }
  } finally {
    await client.close();
  }
});
