// Validates docker-compose.yml with the real `docker-compose config` (no Docker engine
// needed); `npm test` installs Debian's docker-compose when this file is selected.
import { describe, test } from '@jest/globals';
import assert from '../support/assert';
import { execFile as execFileCb } from 'node:child_process';
import { promisify } from 'node:util';
import path from 'node:path';

const execFile = promisify(execFileCb);

const repoRoot = path.resolve(__dirname, '../..');
const composeFile = path.join(repoRoot, 'docker-compose.yml');

const EXPECTED_SERVICES = ['temporal', 'temporal-db', 'temporal-ui', 'warehouse', 'worker'];

// Keep interpolation deterministic regardless of the caller's shell.
const childEnv: NodeJS.ProcessEnv = { ...process.env };
delete childEnv.WAREHOUSE_PORT;
delete childEnv.WAREHOUSE_PASSWORD;

async function compose(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return execFile('docker-compose', ['-f', composeFile, ...args], {
    cwd: repoRoot,
    env: childEnv,
    timeout: 60_000,
    maxBuffer: 10 * 1024 * 1024,
  });
}

type ComposeJson = {
  services: Record<
    string,
    {
      environment?: Record<string, string | null>;
      ports?: Array<{ target: number; published?: string | number }>;
    }
  >;
};

// v2 supports `config --format json`. v1 (Debian bookworm ships 1.29.2) does
// not, and prints usage to stderr while still exiting 0, so "supported" means
// "stdout parsed as JSON".
async function configJson(): Promise<ComposeJson | undefined> {
  try {
    const { stdout } = await compose('config', '--format', 'json');
    const parsed = JSON.parse(stdout) as ComposeJson;
    return parsed && typeof parsed.services === 'object' ? parsed : undefined;
  } catch {
    return undefined;
  }
}

// The lines of one top-level service in v1's normalized YAML output.
function serviceBlock(yaml: string, name: string): string {
  const lines = yaml.split('\n');
  const start = lines.indexOf(`  ${name}:`);
  assert.notEqual(start, -1, `service ${name} missing from config output`);
  let end = start + 1;
  while (end < lines.length && (lines[end] === '' || /^ {3,}|^ {2}- /.test(lines[end]))) end++;
  return lines.slice(start, end).join('\n');
}

describe('docker-compose.yml passes docker-compose config', () => {
  test('lists exactly the expected services', async () => {
    const { stdout } = await compose('config', '--services');
    const services = stdout
      .split('\n')
      .map((s) => s.trim())
      .filter(Boolean)
      .sort();
    assert.deepEqual(services, EXPECTED_SERVICES);
  });

  test('wires the worker and UI to Temporal and publishes the UI on 8233', async () => {
    const json = await configJson();
    if (json) {
      assert.equal(json.services.worker.environment?.TEMPORAL_ADDRESS, 'temporal:7233');
      assert.equal(json.services['temporal-ui'].environment?.TEMPORAL_ADDRESS, 'temporal:7233');
      const uiPorts = json.services['temporal-ui'].ports ?? [];
      assert.ok(
        uiPorts.some((p) => String(p.published) === '8233' && Number(p.target) === 8080),
        `temporal-ui ports: ${JSON.stringify(uiPorts)}`,
      );
      return;
    }

    // execFile rejects on a non-zero exit, so reaching the asserts means exit 0.
    const { stdout } = await compose('config');
    assert.match(stdout, /TEMPORAL_ADDRESS: temporal:7233/);
    assert.match(serviceBlock(stdout, 'worker'), /TEMPORAL_ADDRESS: temporal:7233/);
    const ui = serviceBlock(stdout, 'temporal-ui');
    assert.match(ui, /TEMPORAL_ADDRESS: temporal:7233/);
    assert.match(ui, /published: ['"]?8233['"]?\s+target: 8080|8233:8080/);
  });
});
