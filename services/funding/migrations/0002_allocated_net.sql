-- Issue 13 #5: donors_view.allocated_rp is net of releases (sponsored − released), the meaning
-- reporting uses too. Rows written under the old, gross meaning are converted once; a replay
-- (`genting replay funding`) computes the same from the events.
update donors_view set allocated_rp = allocated_rp - returned_rp;
