/** Debian packages installed on demand (as root), for the services and the test tools that need them. */
import { isRoot, run, type Report } from './processes';

/** Installs one Debian package; `why` says who needs it, in the message a non-root user gets. */
export async function installDebianPackage(name: string, report: Report, why: string): Promise<void> {
  if (!isRoot()) throw new Error(`${name} is not installed, and ${why} needs it: run \`apt-get install ${name}\` as root`);
  report(`installing ${name} from Debian packages (for ${why})`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await run('apt-get', ['update', '-qq'], { env });
  await run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', name], { env });
}
