-- WITHOUT ROWID (added by hand): rows are stored in the order of their keyed tags, so the file does
-- not keep the order in which markers were written.
CREATE TABLE `shield_markers` (
	`tag` text PRIMARY KEY NOT NULL,
	`sealed` blob NOT NULL
) WITHOUT ROWID;
--> statement-breakpoint
PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_notices` (
	`id` text PRIMARY KEY NOT NULL,
	`agency_id` text NOT NULL,
	`subject_id` text,
	`match_id` text,
	`type` text NOT NULL,
	`sealed` blob NOT NULL,
	`policy_id` text NOT NULL,
	`policy_version` text NOT NULL,
	`created_at` text NOT NULL,
	`acked_at` text,
	`delivery` text DEFAULT 'none' NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_attempt_at` text,
	`delivered_at` text,
	`last_error` text,
	FOREIGN KEY (`agency_id`) REFERENCES `agencies`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`subject_id`) REFERENCES `subjects`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`match_id`) REFERENCES `matches`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
INSERT INTO `__new_notices`("id", "agency_id", "subject_id", "match_id", "type", "sealed", "policy_id", "policy_version", "created_at", "acked_at", "delivery", "attempts", "next_attempt_at", "delivered_at", "last_error") SELECT "id", "agency_id", "subject_id", "match_id", "type", "sealed", "policy_id", "policy_version", "created_at", "acked_at", "delivery", "attempts", "next_attempt_at", "delivered_at", "last_error" FROM `notices`;--> statement-breakpoint
DROP TABLE `notices`;--> statement-breakpoint
ALTER TABLE `__new_notices` RENAME TO `notices`;--> statement-breakpoint
PRAGMA foreign_keys=ON;--> statement-breakpoint
CREATE INDEX `notices_agency` ON `notices` (`agency_id`,`id`);--> statement-breakpoint
CREATE INDEX `notices_subject` ON `notices` (`subject_id`);--> statement-breakpoint
CREATE INDEX `notices_delivery_due` ON `notices` (`delivery`,`next_attempt_at`);