/**
 * Schema migrations, applied in order by `PRAGMA user_version`. Never edit a shipped
 * migration: append a new one. Later issues fill these tables; the shape is DESIGN.md's.
 */
export const MIGRATIONS: readonly string[] = [
  // v1: the whole store of DESIGN.md.
  `
  CREATE TABLE experiments (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL
  );

  CREATE TABLE runs (
    rid           INTEGER PRIMARY KEY,
    id            TEXT NOT NULL UNIQUE,
    experiment_id INTEGER REFERENCES experiments(id) ON DELETE SET NULL,
    name          TEXT NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('script','notebook','training','pipeline','step','session')),
    status        TEXT NOT NULL CHECK (status IN ('running','finished','failed','crashed')),
    started_at    INTEGER NOT NULL,
    ended_at      INTEGER,
    command       TEXT,
    cwd           TEXT,
    exit_code     INTEGER,
    parent_rid    INTEGER REFERENCES runs(rid) ON DELETE CASCADE,
    pid           INTEGER,
    host          TEXT,
    note          TEXT
  );
  CREATE INDEX runs_by_start  ON runs(started_at);
  CREATE INDEX runs_by_parent ON runs(parent_rid);
  CREATE INDEX runs_by_name   ON runs(name);
  CREATE INDEX runs_running   ON runs(status) WHERE status = 'running';

  CREATE TABLE params (
    rid    INTEGER NOT NULL REFERENCES runs(rid) ON DELETE CASCADE,
    key    TEXT NOT NULL,
    value  TEXT NOT NULL,
    source TEXT NOT NULL CHECK (source IN ('cli','config','notebook-parameters','injected','logged','override')),
    PRIMARY KEY (rid, key)
  ) WITHOUT ROWID;

  -- One row per (run, key, step): logging the same step again replaces it. No foreign key:
  -- metric rows are the hot path and are deleted explicitly with their run.
  CREATE TABLE metrics (
    rid       INTEGER NOT NULL,
    key       TEXT NOT NULL,
    step      INTEGER NOT NULL,
    value     REAL,
    wall_time REAL NOT NULL,
    PRIMARY KEY (rid, key, step)
  ) WITHOUT ROWID;

  -- A file the run read. sha256/size/mtime are NULL when it could not be hashed (error says why).
  CREATE TABLE inputs (
    rid      INTEGER NOT NULL REFERENCES runs(rid) ON DELETE CASCADE,
    path     TEXT NOT NULL,
    size     INTEGER,
    mtime    INTEGER,
    sha256   TEXT,
    declared INTEGER NOT NULL DEFAULT 0,
    error    TEXT,
    PRIMARY KEY (rid, path)
  ) WITHOUT ROWID;

  CREATE TABLE tags (
    rid INTEGER NOT NULL REFERENCES runs(rid) ON DELETE CASCADE,
    tag TEXT NOT NULL,
    PRIMARY KEY (rid, tag)
  ) WITHOUT ROWID;

  -- Cells executed in VS Code's notebook editor during a session run, in the order they ran.
  CREATE TABLE executions (
    rid             INTEGER NOT NULL REFERENCES runs(rid) ON DELETE CASCADE,
    seq             INTEGER NOT NULL,
    cell_id         TEXT,
    cell_index      INTEGER NOT NULL,
    source_sha256   TEXT NOT NULL,
    execution_count INTEGER,
    success         INTEGER,
    started_at      INTEGER,
    duration_ms     REAL,
    PRIMARY KEY (rid, seq)
  ) WITHOUT ROWID;

  -- SHA-256 of files by identity, so an unchanged large file is not read again.
  CREATE TABLE hash_cache (
    path     TEXT PRIMARY KEY,
    size     INTEGER NOT NULL,
    mtime_ns TEXT NOT NULL,
    ino      TEXT NOT NULL,
    sha256   TEXT NOT NULL
  ) WITHOUT ROWID;

  CREATE TABLE environments (
    rid             INTEGER PRIMARY KEY REFERENCES runs(rid) ON DELETE CASCADE,
    python          TEXT,
    python_version  TEXT,
    packages_blob   TEXT,
    os              TEXT,
    cpu             TEXT,
    memory_bytes    INTEGER,
    gpu             TEXT,
    git_commit      TEXT,
    git_branch      TEXT,
    git_dirty       INTEGER,
    git_diff_blob   TEXT,
    labbook_version TEXT,
    extra           TEXT NOT NULL DEFAULT '{}'
  );

  CREATE TABLE code (
    rid  INTEGER NOT NULL REFERENCES runs(rid) ON DELETE CASCADE,
    path TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('script','module','notebook','diff','config')),
    blob TEXT NOT NULL,
    PRIMARY KEY (rid, path, kind)
  ) WITHOUT ROWID;

  CREATE TABLE artifacts (
    rid        INTEGER NOT NULL REFERENCES runs(rid) ON DELETE CASCADE,
    path       TEXT NOT NULL,
    blob       TEXT,
    size       INTEGER,
    kind       TEXT NOT NULL DEFAULT 'file',
    created_at INTEGER NOT NULL,
    PRIMARY KEY (rid, path)
  ) WITHOUT ROWID;

  -- Content-addressed files under .labbook/blobs/; this table knows which exist.
  CREATE TABLE blobs (
    hash       TEXT PRIMARY KEY,
    size       INTEGER NOT NULL,
    created_at INTEGER NOT NULL
  ) WITHOUT ROWID;

  CREATE TABLE models (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    version    INTEGER NOT NULL,
    rid        INTEGER REFERENCES runs(rid) ON DELETE SET NULL,
    metrics    TEXT NOT NULL DEFAULT '{}',
    path       TEXT NOT NULL,
    stage      TEXT NOT NULL DEFAULT 'none' CHECK (stage IN ('none','staging','production','archived')),
    created_at INTEGER NOT NULL,
    UNIQUE (name, version)
  );

  CREATE TABLE deployments (
    id          INTEGER PRIMARY KEY,
    model_id    INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
    deployed_at INTEGER NOT NULL,
    gate        TEXT NOT NULL DEFAULT '{}',
    passed      INTEGER NOT NULL,
    forced      INTEGER NOT NULL DEFAULT 0,
    deployed_by TEXT
  );

  CREATE TABLE predictions (
    id         INTEGER PRIMARY KEY,
    model_id   INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
    input_hash TEXT NOT NULL,
    output     TEXT NOT NULL,
    confidence REAL,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX predictions_by_model ON predictions(model_id, created_at);
  `,
  // v2: a deployment of a model named by the user (deploy --model), which skips the gate.
  `
  ALTER TABLE deployments ADD COLUMN chosen INTEGER NOT NULL DEFAULT 0;
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;
