-- 0005_order_ids: order IDs became po_<partner>.<po_number> (a partner id
-- has no "."), so that two partners' POs can never share one; rewrite
-- the IDs stored before.
PRAGMA defer_foreign_keys = ON;
UPDATE order_versions SET order_id = (
	SELECT 'po_' || o.partner || '.' || o.po_number FROM orders o WHERE o.id = order_versions.order_id
) WHERE order_id IN (SELECT id FROM orders WHERE id <> 'po_' || partner || '.' || po_number);
UPDATE orders SET id = 'po_' || partner || '.' || po_number WHERE id <> 'po_' || partner || '.' || po_number;
