CREATE TABLE `audit_checkpoints` (
	`seq` integer PRIMARY KEY NOT NULL,
	`head` text NOT NULL,
	`at` text NOT NULL,
	`kid` text NOT NULL,
	`jws` text NOT NULL
);
