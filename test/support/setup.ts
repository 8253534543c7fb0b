// Mocha root hooks: shared test setup lives here (database migrations, env defaults).
export {};
