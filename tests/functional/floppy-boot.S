/*
 * Boot sector for tests/functional/floppy-boot.sh: loaded by SeaBIOS at
 * 0:7c00 from a 1.44 MB floppy.  It prints "FDBOOT" on COM1, reads with
 * int 13h AH=02h (CHS) the whole track at cylinder 0 head 1 (18 sectors)
 * and the disk's last sector (cylinder 79 head 1 sector 18) to 1000:0000
 * (above 64 KiB: the DMA page register matters), prints "SUM=xxxx" (the
 * 16-bit sum of those 19 sectors' bytes, hex) and ends with isa-debug-exit
 * (port 0xf4): exit status 3 on success, 5 on a read error.
 */
	.code16
	.text
	.globl _start
_start:
	cli
	xor %ax, %ax
	mov %ax, %ds
	mov %ax, %ss
	mov $0x7c00, %sp
	/* Interrupts stay off (int 13h enables them where it waits): SeaBIOS's
	 * serial console flushes its lazy output from IRQ handlers, which would
	 * land in the middle of what this sector prints. */
	mov %dl, drive
	mov $banner, %si
	call puts
	mov $0x1000, %ax
	mov %ax, %es
	/* 18 sectors from C0 H1 S1 to 1000:0000 */
	mov $0x0212, %ax
	mov $0x0001, %cx
	mov $0x01, %dh
	mov drive, %dl
	xor %bx, %bx
	int $0x13
	jc fail
	/* C79 H1 S18 to 1000:2400 */
	mov $0x0201, %ax
	mov $(79 << 8 | 18), %cx
	mov $0x01, %dh
	mov drive, %dl
	mov $0x2400, %bx
	int $0x13
	jc fail
	xor %bx, %bx
	xor %si, %si
	mov $(19 * 512), %cx
sum:	movzbw %es:(%si), %ax
	add %ax, %bx
	inc %si
	loop sum
	.include "boot-report.inc"
drive:	.byte 0
banner:	.asciz "FDBOOT\r\n"

	.org 510
	.byte 0x55, 0xaa
