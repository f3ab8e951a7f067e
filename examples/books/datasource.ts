/**
 * A TypeORM DataSource for the sample app from the same SQLAlchemy-style URL that `migrate` takes
 * (mysql://, postgresql://, sqlite:///file). The app never creates or changes the schema
 * (`synchronize: false`): the migrations in migrate_repo/ own it.
 */
import { DataSource, type DataSourceOptions } from 'typeorm';
import { parseUrl } from '../../migrate/url.js';
import { bookSchema, type Dialect } from './book.js';

export function dataSourceOptions(url: string): DataSourceOptions & { dialect: Dialect } {
  const u = parseUrl(url);
  const entities = [bookSchema(u.dialect)];
  const common = { entities, synchronize: false, logging: false } as const;
  if (u.dialect === 'mysql') {
    return {
      ...common,
      dialect: u.dialect,
      type: 'mysql',
      host: u.host ?? 'localhost',
      port: u.port ?? 3306,
      username: u.username ?? 'root',
      password: u.password ?? '',
      database: u.database,
      supportBigNumbers: true,
      bigNumberStrings: true,
      poolSize: 2,
    };
  }
  if (u.dialect === 'postgresql') {
    return {
      ...common,
      dialect: u.dialect,
      type: 'postgres',
      host: u.host ?? 'localhost',
      port: u.port ?? 5432,
      username: u.username ?? 'postgres',
      password: u.password,
      database: u.database,
      poolSize: 2,
    };
  }
  return { ...common, dialect: u.dialect, type: 'better-sqlite3', database: u.database ?? ':memory:' };
}

/** Opens (initialises) a DataSource for `url`. Close it with `destroy()`. */
export async function openDataSource(url: string): Promise<DataSource> {
  const { dialect: _dialect, ...options } = dataSourceOptions(url);
  const ds = new DataSource(options as DataSourceOptions);
  await ds.initialize();
  return ds;
}
