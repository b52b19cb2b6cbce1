DROP TABLE event_stream_tickets;
DROP TABLE alert_unsubscribe_tokens;
DROP TABLE alert_digests;
DROP TABLE saved_search_alerts;
DROP TABLE saved_searches;
