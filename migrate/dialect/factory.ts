/**
 * Where adapters come from: one new adapter per connection, loaded lazily (a SQLite run never
 * loads mysql2 or pg), and the URL's connection settings as TypeORM options for callers that open
 * their own DataSource.
 */
import type { DataSourceOptions } from 'typeorm';
import type { DialectName } from '../script/contract.js';
import type { ParsedUrl } from '../url.js';
import type { ConnectOptions, DialectAdapter } from './contract.js';

/** A new adapter (one per connection). Drivers load lazily: a SQLite run never loads mysql2 or pg. */
export async function createAdapter(dialect: DialectName): Promise<DialectAdapter> {
  switch (dialect) {
    case 'mysql':
      return new (await import('./mysql.js')).MysqlAdapter();
    case 'postgresql':
      return new (await import('./postgres.js')).PostgresAdapter();
    case 'sqlite':
      return new (await import('./sqlite.js')).SqliteAdapter();
  }
}

/**
 * The driver options of a URL as TypeORM DataSource options, built by the URL's adapter (the only
 * home of its dialect's connection settings: host, TLS files, timeouts...). For callers that open
 * their own DataSource; they override what is theirs (pool size, charset, type parsers).
 */
export async function typeormOptionsFor(url: ParsedUrl, o: ConnectOptions = {}): Promise<DataSourceOptions> {
  return (await createAdapter(url.dialect)).typeormOptions(url, o);
}
