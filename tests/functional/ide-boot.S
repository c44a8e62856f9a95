/*
 * Boot sector for tests/functional/ide-boot.sh: loaded by SeaBIOS at
 * 0:7c00 from an IDE disk (MBR) or an El Torito no-emulation CD image.
 * It prints "IDEBOOT" on COM1, reads one sector (LBA READ_LBA, SECTOR_SIZE
 * bytes: 512 on a disk, 2048 on a CD) with int 13h AH=42h from the boot
 * drive, prints "SUM=xxxx" (16-bit sum of its bytes, hex) and ends with
 * isa-debug-exit (port 0xf4): exit status 3 on success, 5 on a read error.
 */
	.code16
	.text
	.globl _start
_start:
	cli
	xor %ax, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	mov $0x7c00, %sp
	/* Interrupts stay off (int 13h enables them where it waits): SeaBIOS's
	 * serial console flushes its lazy output from IRQ handlers, which would
	 * land in the middle of what this sector prints. */
	mov %dl, drive
	mov $banner, %si
	call puts
	/* int 13h extended read of one sector to 0:8000 */
	mov $dap, %si
	mov drive, %dl
	mov $0x42, %ah
	int $0x13
	jc fail
	xor %bx, %bx
	xor %si, %si
	mov $SECTOR_SIZE, %cx
sum:	movzbw 0x8000(%si), %ax
	add %ax, %bx
	inc %si
	loop sum
	.include "boot-report.inc"
drive:	.byte 0
banner:	.asciz "IDEBOOT\r\n"
	.p2align 2
dap:	.byte 16, 0
	.word 1			/* sectors */
	.word 0x8000, 0		/* buffer offset, segment */
	.quad READ_LBA

	.org 510
	.byte 0x55, 0xaa
