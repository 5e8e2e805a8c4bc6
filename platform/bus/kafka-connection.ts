import { readFileSync } from 'node:fs';
import type { KafkaConfig, SASLOptions } from 'kafkajs';
import type { Config } from '../config.ts';

type Sasl = NonNullable<Config['kafka']['sasl']>;

/**
 * How every kafkajs client of the bus reaches a secured cluster: TLS (with a private CA when one is given)
 * and SASL. The CA is read once at start, so a wrong path stops the role with its name rather than
 * failing each connection later.
 */
export function kafkaConnection(config: Config['kafka']): Pick<KafkaConfig, 'ssl' | 'sasl'> {
  const ssl = config.sslCaFile ? { ca: [readCa(config.sslCaFile)] } : config.ssl === true;
  return config.sasl ? { ssl, sasl: saslOptions(config.sasl) } : { ssl };
}

// kafkajs types each mechanism as its own variant, so the union is narrowed one case at a time.
function saslOptions({ mechanism, username, password }: Sasl): SASLOptions {
  switch (mechanism) {
    case 'plain':
      return { mechanism, username, password };
    case 'scram-sha-256':
      return { mechanism, username, password };
    case 'scram-sha-512':
      return { mechanism, username, password };
  }
}

function readCa(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`Invalid configuration: KAFKA_SSL_CA_FILE ${path} cannot be read`, { cause: error });
  }
}
