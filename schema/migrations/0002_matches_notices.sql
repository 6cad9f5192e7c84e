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
	`ended_at` text,
	FOREIGN KEY (`subject_id`) REFERENCES `subjects`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`coordinator_id`) REFERENCES `agencies`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `matches_one_live_per_subject` ON `matches` (`subject_id`) WHERE "matches"."status" in ('open', 'claimed', 'escalated');--> statement-breakpoint
CREATE INDEX `matches_coordinator` ON `matches` (`coordinator_id`,`status`);--> statement-breakpoint
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