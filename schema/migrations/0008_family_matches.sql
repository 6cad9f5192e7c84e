CREATE TABLE `signal_families` (
	`signal_id` text NOT NULL,
	`family_id` text NOT NULL,
	PRIMARY KEY(`signal_id`, `family_id`),
	FOREIGN KEY (`signal_id`) REFERENCES `signals`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`family_id`) REFERENCES `subjects`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `signal_families_family` ON `signal_families` (`family_id`);--> statement-breakpoint
DROP INDEX `subjects_pseudonym_unique`;--> statement-breakpoint
ALTER TABLE `subjects` ADD `kind` text DEFAULT 'person' NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX `subjects_kind_pseudonym` ON `subjects` (`kind`,`pseudonym`);