-- The clock's sweep looks every minute for open cases whose response deadline passed without a handler's
-- acceptance (DemandsRepository.responseOverdue). Without an index on the deadline it read every open case's
-- row: ~1 s of PostgreSQL time (a parallel scan) per sweep with 1M cases in the database (the intake bench,
-- docs/bench.md); with it, a range scan of the few cases that are due.
create index demand_response_due on demand (respond_due_at) where status in ('reported', 'registered', 'dispatched') and responded_at is null;
