-- 0003_sending: an 850 is claimed (ack_status 'sending') before it is
-- written, and its bytes are kept, so that it goes out once, and a send
-- that failed or was cut short by a crash is retried with the same bytes
-- and control numbers.
ALTER TABLE sent_orders ADD COLUMN payload BLOB;
CREATE INDEX sent_orders_sending ON sent_orders (sent_at) WHERE ack_status = 'sending';
