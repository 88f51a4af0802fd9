-- Listing current availability reports (the default of
-- ListAvailabilityReports) walks only the current ones: without this index
-- a page of them scanned every superseded version before it. The listing
-- names `kind` and `NOT superseded` literally so the planner may use it.
CREATE INDEX records_current_reports ON records (kind, position)
    WHERE kind = 'availability_report' AND NOT superseded;
