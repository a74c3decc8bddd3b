/**
 * The Debian tools some tests drive, installed when a selected test needs them (no test skips
 * for want of a tool the machine can install): Chromium for the Web UI tests (playwright-core
 * downloads no browser), docker-compose for the compose file's check.
 */
import { existsSync } from 'node:fs';
import { installDebianPackage } from '../platform/debian';
import type { Report } from '../platform/processes';

export const CHROMIUM_PATH = '/usr/bin/chromium';
export const DOCKER_COMPOSE_PATH = '/usr/bin/docker-compose';

async function ensureDebianTool(path: string, name: string, why: string, report: Report): Promise<string> {
  if (existsSync(path)) return path;
  await installDebianPackage(name, report, why);
  if (!existsSync(path)) throw new Error(`apt-get installed ${name} but there is no ${path}`);
  return path;
}

export const ensureChromium = (report: Report) => ensureDebianTool(CHROMIUM_PATH, 'chromium', 'the Web UI tests', report);
export const ensureDockerCompose = (report: Report) => ensureDebianTool(DOCKER_COMPOSE_PATH, 'docker-compose', 'the docker-compose.yml test', report);
