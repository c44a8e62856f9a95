/*
 * linuxboot.bin: the option ROM that lets SeaBIOS boot -kernel (with
 * -machine firmware-boot=on).  Written for kvmpc; it speaks QEMU's
 * linuxboot fw_cfg protocol (docs/firmware.md):
 *
 *   item pairs (32-bit little-endian address, size) and data:
 *     0x07/0x08 KERNEL_ADDR/SIZE, 0x11 KERNEL_DATA   protected-mode part
 *     0x0a/0x0b INITRD_ADDR/SIZE, 0x12 INITRD_DATA   (size 0: none)
 *     0x13/0x14 CMDLINE_ADDR/SIZE, 0x15 CMDLINE_DATA
 *     0x16/0x17 SETUP_ADDR/SIZE, 0x18 SETUP_DATA     real-mode part, header
 *                                                    already filled in
 *
 * Layout (PCI Firmware / PnP BIOS option ROM): 55 AA, size in 512-byte
 * blocks, an init entry at offset 3 (nothing to do: far return), the PnP
 * expansion header whose bootstrap entry vector (BEV) SeaBIOS calls when
 * "/rom@genroms/linuxboot.bin" comes first in the boot order.  The size
 * byte and both checksums are set by signrom.py.
 *
 * The BEV copies every item with fw_cfg DMA (the descriptor on the stack,
 * its physical address written to port 0x518), so real mode can fill
 * memory above 1 MiB, then enters the kernel's real-mode setup as the
 * boot protocol says: DS = ES = FS = GS = SS = setup segment, SP = the
 * header's heap_end_ptr + 0x200, interrupts off, jump to segment + 0x20.
 */
	.code16
	.text
	.globl _start

#define FW_CFG_DMA_LO		0x518
#define DMA_CTL_READ		0x02
#define DMA_CTL_SELECT		0x08

#define KERNEL_ADDR	0x07
#define KERNEL_SIZE	0x08
#define INITRD_ADDR	0x0a
#define INITRD_SIZE	0x0b
#define KERNEL_DATA	0x11
#define INITRD_DATA	0x12
#define CMDLINE_ADDR	0x13
#define CMDLINE_SIZE	0x14
#define CMDLINE_DATA	0x15
#define SETUP_ADDR	0x16
#define SETUP_SIZE	0x17
#define SETUP_DATA	0x18

#define HDR_HEAP_END_PTR	0x224

_start:
	.byte 0x55, 0xaa
	.byte 0				/* size / 512: signrom.py */
	lret				/* init (offset 3): nothing to set up */

	.org 0x18
	.word 0				/* no PCI data structure */
	.word pnp_header

	.balign 16
pnp_header:
	.ascii "$PnP"
	.byte 1				/* structure revision */
	.byte 2				/* length: 2 x 16 bytes */
	.word 0				/* no next header */
	.byte 0
	.byte 0				/* checksum: signrom.py */
	.long 0				/* device identifier */
	.word 0				/* manufacturer string */
	.word product_name
	.byte 0, 0, 0			/* device type */
	.byte 0				/* device indicators */
	.word 0				/* boot connection vector */
	.word 0				/* disconnect vector */
	.word boot			/* bootstrap entry vector */
	.word 0
	.word 0				/* static resource information */

product_name:
	.asciz "Linux loader (kvmpc)"

/*
 * fw_cfg DMA: read %ecx bytes of item %ax to physical address %ebx.
 * Clobbers %eax, %edx.
 */
dma_read:
	push %bp
	mov %sp, %bp
	sub $16, %sp
	movzwl %ax, %eax
	shl $16, %eax
	or $(DMA_CTL_SELECT | DMA_CTL_READ), %eax
	bswap %eax
	mov %eax, -16(%bp)		/* be32 control */
	mov %ecx, %eax
	bswap %eax
	mov %eax, -12(%bp)		/* be32 length */
	movl $0, -8(%bp)		/* be64 address: high half */
	mov %ebx, %eax
	bswap %eax
	mov %eax, -4(%bp)		/* low half */
	xor %eax, %eax			/* the descriptor's physical address */
	mov %ss, %ax
	shl $4, %eax
	movzwl %bp, %edx
	add %edx, %eax
	sub $16, %eax
	bswap %eax
	mov $FW_CFG_DMA_LO, %dx
	out %eax, %dx			/* starts the transfer */
1:	mov -16(%bp), %eax		/* done when only the error bit may remain */
	bswap %eax
	test $~1, %eax
	jnz 1b
	leave
	ret

/* %eax = the 32-bit little-endian item %ax.  Clobbers %ebx, %ecx, %edx. */
read32:
	push %bp
	mov %sp, %bp
	sub $4, %sp
	movl $0, -4(%bp)
	xor %ebx, %ebx
	mov %ss, %bx
	shl $4, %ebx
	movzwl %bp, %edx
	add %edx, %ebx
	sub $4, %ebx
	mov $4, %ecx
	call dma_read
	mov -4(%bp), %eax
	leave
	ret

/* Copies data item `data` to the address in item `addr`, if item `size`
 * is not 0.  Leaves the address in %esi. */
.macro load addr, size, data
	mov $\addr, %ax
	call read32
	mov %eax, %esi
	mov $\size, %ax
	call read32
	mov %eax, %ecx
	test %ecx, %ecx
	jz 9f
	mov %esi, %ebx
	mov $\data, %ax
	call dma_read
9:
.endm

boot:
	cli
	cld
	load KERNEL_ADDR, KERNEL_SIZE, KERNEL_DATA
	load INITRD_ADDR, INITRD_SIZE, INITRD_DATA
	load CMDLINE_ADDR, CMDLINE_SIZE, CMDLINE_DATA
	load SETUP_ADDR, SETUP_SIZE, SETUP_DATA
	mov %esi, %eax			/* the setup segment */
	shr $4, %eax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %fs
	mov %ax, %gs
	mov HDR_HEAP_END_PTR, %bx
	add $0x200, %bx
	mov %ax, %ss
	mov %bx, %sp
	add $0x20, %ax
	push %ax
	push $0
	lret
