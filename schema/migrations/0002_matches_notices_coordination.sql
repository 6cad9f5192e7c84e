CREATE TABLE `case_tables` (
	`id` text PRIMARY KEY NOT NULL,
	`match_id` text NOT NULL,
	`scheduled_for` text NOT NULL,
	`invited` text NOT NULL,
	`created_at` text NOT NULL,
	`held` integer,
	`attended_by` text,
	`lead_agency_id` text,
	`next_review_on` text,
	`outcome_at` text,
	FOREIGN KEY (`match_id`) REFERENCES `matches`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `case_tables_match` ON `case_tables` (`match_id`);--> statement-breakpoint
CREATE TABLE `job_marks` (
	`kind` text NOT NULL,
	`ref` text NOT NULL,
	`at` text NOT NULL,
	PRIMARY KEY(`kind`, `ref`)
);
--> statement-breakpoint
CREATE TABLE `match_events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`match_id` text NOT NULL,
	`at` text NOT NULL,
	`type` text NOT NULL,
	`agency_id` text,
	FOREIGN KEY (`match_id`) REFERENCES `matches`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `match_events_match` ON `match_events` (`match_id`,`id`);--> statement-breakpoint
CREATE TABLE `match_recipients` (
	`match_id` text NOT NULL,
	`agency_id` text NOT NULL,
	`role` text NOT NULL,
	`visible` text NOT NULL,
	`updated_at` text NOT NULL,
	PRIMARY KEY(`match_id`, `agency_id`),
	FOREIGN KEY (`match_id`) REFERENCES `matches`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`agency_id`) REFERENCES `agencies`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `matches` (
	`id` text PRIMARY KEY NOT NULL,
	`subject_id` text NOT NULL,
	`status` text NOT NULL,
	`municipality` text NOT NULL,
	`district` text,
	`coordinator_id` text,
	`policy_version` text NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	`claim_by` text NOT NULL,
	`claimed_at` text,
	`claim_sealed` blob,
	`escalated_to` text,
	`escalated_at` text,
	`ended_at` text,
	`close_reason` text,
	FOREIGN KEY (`subject_id`) REFERENCES `subjects`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`coordinator_id`) REFERENCES `agencies`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`escalated_to`) REFERENCES `agencies`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `matches_one_live_per_subject` ON `matches` (`subject_id`) WHERE "matches"."status" in ('open', 'claimed', 'escalated');--> statement-breakpoint
CREATE INDEX `matches_coordinator` ON `matches` (`coordinator_id`,`status`);--> statement-breakpoint
CREATE INDEX `matches_escalated` ON `matches` (`escalated_to`,`status`);--> statement-breakpoint
CREATE INDEX `matches_claim_by` ON `matches` (`status`,`claim_by`);--> statement-breakpoint
CREATE TABLE `notices` (
	`id` text PRIMARY KEY NOT NULL,
	`agency_id` text NOT NULL,
	`subject_id` text NOT NULL,
	`match_id` text,
	`type` text NOT NULL,
	`sealed` blob NOT NULL,
	`policy_id` text NOT NULL,
	`policy_version` text NOT NULL,
	`rules` text NOT NULL,
	`created_at` text NOT NULL,
	`acked_at` text,
	FOREIGN KEY (`agency_id`) REFERENCES `agencies`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`subject_id`) REFERENCES `subjects`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`match_id`) REFERENCES `matches`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `notices_agency` ON `notices` (`agency_id`,`id`);--> statement-breakpoint
CREATE INDEX `notices_subject` ON `notices` (`subject_id`);