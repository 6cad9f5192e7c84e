-- A signal's kind, district and informing state, and a notice's rule list, leave the clear.
-- SQL cannot seal: what the signals held is moved to legacy_signal_fields, and the next start
-- seals it into each signal (store/reseal.ts) and empties that table. Notices already carry their
-- rules inside the sealed body, so that column is dropped outright.
CREATE TABLE `legacy_signal_fields` (
	`signal_id` text PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`district` text,
	`informed_status` text NOT NULL,
	`informed_exemption` text
);
--> statement-breakpoint
INSERT INTO `legacy_signal_fields` (`signal_id`, `kind`, `district`, `informed_status`, `informed_exemption`)
	SELECT `id`, `kind`, `district`, `informed_status`, `informed_exemption` FROM `signals`;
--> statement-breakpoint
-- The default only fills existing rows (SQLite needs one to add a NOT NULL column); every insert names it.
ALTER TABLE `signals` ADD `informing_pending` integer NOT NULL DEFAULT 0;--> statement-breakpoint
UPDATE `signals` SET `informing_pending` = (`informed_status` = 'pending');--> statement-breakpoint
ALTER TABLE `signals` DROP COLUMN `kind`;--> statement-breakpoint
ALTER TABLE `signals` DROP COLUMN `district`;--> statement-breakpoint
ALTER TABLE `signals` DROP COLUMN `informed_status`;--> statement-breakpoint
ALTER TABLE `signals` DROP COLUMN `informed_exemption`;--> statement-breakpoint
ALTER TABLE `notices` DROP COLUMN `rules`;
