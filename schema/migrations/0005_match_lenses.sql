DROP INDEX `matches_one_live_per_subject`;--> statement-breakpoint
ALTER TABLE `matches` ADD `lens` text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE `matches` ADD `covered_signals` text;--> statement-breakpoint
CREATE UNIQUE INDEX `matches_one_live_per_subject_lens` ON `matches` (`subject_id`,`lens`) WHERE "matches"."status" in ('open', 'claimed', 'escalated');--> statement-breakpoint
ALTER TABLE `matches` DROP COLUMN `district`;--> statement-breakpoint
ALTER TABLE `case_tables` ADD `root_id` text;--> statement-breakpoint
CREATE INDEX `case_tables_root` ON `case_tables` (`root_id`);--> statement-breakpoint
ALTER TABLE `match_recipients` ADD `visible_sealed` blob;--> statement-breakpoint
ALTER TABLE `match_recipients` DROP COLUMN `visible`;