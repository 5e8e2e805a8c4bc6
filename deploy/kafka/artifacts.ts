import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

// Not 4.4.0: in Nov 2026 Maven Central lists it but lacks its kafka-tools-api module, so it does not resolve.
export const KAFKA_VERSION = '4.3.1';
// The log4j-core that kafka_2.13 4.3.1 pulls in. Kafka logs through slf4j 1.7, so the binding is
// log4j-slf4j-impl, not log4j-slf4j2-impl.
const LOG4J_VERSION = '2.25.4';
// Maven 3.8 would otherwise pick dependency plugin 2.8.
const DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1';

export const DEFAULT_CACHE_DIR = join(homedir(), '.cache', 'mediagate');

const TAIL_LINES = 40;

const execFileAsync = promisify(execFile);

const dependency = (group: string, artifact: string, version: string) =>
  `<dependency><groupId>${group}</groupId><artifactId>${artifact}</artifactId><version>${version}</version></dependency>`;

const POM = `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>mediagate</groupId><artifactId>kafka-runtime</artifactId><version>1</version>
  <dependencies>
    ${dependency('org.apache.kafka', 'kafka_2.13', KAFKA_VERSION)}
    ${dependency('org.apache.logging.log4j', 'log4j-slf4j-impl', LOG4J_VERSION)}
  </dependencies>
</project>
`;

/** Resolves the broker's jars into `${cacheDir}/kafka-<version>/libs` once and returns that directory. */
export async function ensureKafkaArtifacts(cacheDir: string): Promise<string> {
  const home = join(cacheDir, `kafka-${KAFKA_VERSION}`);
  const libs = join(home, 'libs');
  if (existsSync(libs)) return libs;
  await mkdir(cacheDir, { recursive: true });
  // Each caller builds in its own directory, with its own Maven repository, and publishes it with one atomic
  // rename: concurrent callers share no half-written state, and the loser of the rename uses the winner's copy.
  const tmp = await mkdtemp(join(cacheDir, `.kafka-${KAFKA_VERSION}-`));
  try {
    await writeFile(join(tmp, 'pom.xml'), POM);
    const goal = `${DEPENDENCY_PLUGIN}:copy-dependencies`;
    const args = ['-B', '-q', `-Dmaven.repo.local=${join(tmp, 'm2')}`, goal, '-DincludeScope=runtime'];
    try {
      // Run in tmp so Maven finds pom.xml there and copies into tmp/libs (its default outputDirectory is target/).
      await execFileAsync('mvn', [...args, '-DoutputDirectory=libs'], {
        cwd: tmp,
        maxBuffer: 64 * 1024 * 1024,
        timeout: 15 * 60_000,
      });
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; message: string };
      const out = `${e.stdout ?? ''}${e.stderr ?? ''}`.trim().split('\n').slice(-TAIL_LINES).join('\n');
      const why = e.message.split('\n')[0];
      throw new Error(`fetching Kafka ${KAFKA_VERSION} with Maven failed: ${why}\n${out}`);
    }
    // The jars are copied into libs; the repository would only double the cache's size.
    await rm(join(tmp, 'm2'), { recursive: true, force: true });
    try {
      await rename(tmp, home);
    } catch (err) {
      if (!existsSync(libs)) throw err;
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return libs;
}
